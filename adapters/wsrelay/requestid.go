package wsrelay

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
)

// idSource mints outbound request ids: 32 lowercase hex digits, unique
// within a transport and unpredictable to anyone who does not hold its key.
//
// Each id is the AES-128 encryption, under a key drawn from crypto/rand
// when the transport is built, of a 128-bit block made of a random 64-bit
// prefix (also from crypto/rand) and a 64-bit counter. AES under one key
// is a permutation, so distinct counters give distinct ids; as a
// pseudorandom permutation, its outputs are indistinguishable from random
// blocks without the key, so seeing ids tells nothing about the next one.
// This costs one block encryption per id instead of a read from the
// system's random source.
type idSource struct {
	block  cipher.Block
	prefix uint64
	ctr    atomic.Uint64
}

func newIDSource() *idSource {
	var seed [24]byte
	_, _ = rand.Read(seed[:]) // crypto/rand.Read never fails

	block, err := aes.NewCipher(seed[:16])
	if err != nil {
		panic("wsrelay: aes key: " + err.Error()) // a 16-byte key is always valid
	}

	return &idSource{block: block, prefix: binary.LittleEndian.Uint64(seed[16:])}
}

// next returns a fresh request id. Safe for concurrent use.
func (s *idSource) next() string {
	var in, out [16]byte
	binary.LittleEndian.PutUint64(in[:8], s.prefix)
	binary.LittleEndian.PutUint64(in[8:], s.ctr.Add(1))
	s.block.Encrypt(out[:], in[:])

	var id [32]byte
	hex.Encode(id[:], out[:])

	return string(id[:])
}
