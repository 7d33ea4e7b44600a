package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/app"
	"github.com/relay-go/relay/domain"
	"github.com/relay-go/relay/ports"
)

// notifierFunc adapts a function to a ports.FatalNotifier.
type notifierFunc func(ctx context.Context, err domain.FatalError)

func (f notifierFunc) NotifyFatal(ctx context.Context, err domain.FatalError) { f(ctx, err) }

// A fatal notifier that shuts the adapter down synchronously (a natural
// reaction to a revoked credential) waits on the revocation watch, which
// waits on the notifier: Disconnect can only end by its own deadline.
func TestReviewNotifierDisconnectDeadlocks(t *testing.T) {
	tr := &revokingTransport{fakeTransport: newFakeTransport(), revoked: make(chan struct{})}

	var a *app.Adapter

	got := make(chan error, 1)
	notifier := notifierFunc(func(context.Context, domain.FatalError) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()

		got <- a.Disconnect(ctx)
	})

	var err error
	a, err = app.NewAdapter(app.Config{Transport: tr, Sink: newRecordingSink(), Notifier: notifier})
	require.NoError(t, err)
	require.NoError(t, a.Connect(context.Background()))

	close(tr.revoked)

	derr := recv(t, got)
	assert.True(t, errors.Is(derr, context.DeadlineExceeded),
		"Disconnect from the notifier only ends by its deadline: %v", derr)
}

// A sink that disconnects the adapter (say, on an admin "shutdown" command)
// waits for the delivery workers to stop, and it is one of them.
func TestReviewSinkDisconnectDeadlocks(t *testing.T) {
	tr := newFakeTransport()

	var a *app.Adapter

	got := make(chan error, 1)
	sink := ports.EventSinkFunc(func(context.Context, domain.MessageEvent) error {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()

		got <- a.Disconnect(ctx)

		return nil
	})

	var err error
	a, err = app.NewAdapter(app.Config{Transport: tr, Sink: sink})
	require.NoError(t, err)
	require.NoError(t, a.Connect(context.Background()))

	tr.inbound(event("c1", "shutdown"), ports.Delivery{})

	derr := recv(t, got)
	assert.True(t, errors.Is(derr, context.DeadlineExceeded),
		"Disconnect from the sink only ends by its deadline: %v", derr)
}
