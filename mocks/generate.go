// Package mocks holds mockery-generated mocks of every interface in package
// ports. Tests use them for interaction checks ("the fatal error is reported
// exactly once"); behaviour tests use the in-memory transport instead.
//
// The mocks are generated from the module's .mockery.yaml; do not edit them
// by hand. Regenerate with:
//
//	go generate ./mocks/
package mocks

//go:generate go tool mockery --log-level=warn
