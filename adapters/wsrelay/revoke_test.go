package wsrelay_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/relay-go/relay/adapters/wsrelay"
	"github.com/relay-go/relay/adapters/wsrelay/wsrelaytest"
)

// authSetup is a transport with credentials against a server that checks
// them, with every backoff wait gated by the test.
type authSetup struct {
	srv   *wsrelaytest.Server
	tr    *wsrelay.Transport
	gate  *gatedAfter
	clock *fakeClock
}

func newAuthSetup(t *testing.T, opts ...wsrelaytest.Option) *authSetup {
	t.Helper()

	opts = append([]wsrelaytest.Option{wsrelaytest.WithSecrets(testGateway, testSecret)}, opts...)
	s := &authSetup{
		srv:   wsrelaytest.NewServer(t, opts...),
		gate:  newGatedAfter(),
		clock: newFakeClock(),
	}
	cfg := testConfig(s.srv)
	cfg.GatewayID, cfg.Secret = testGateway, testSecret
	cfg.After, cfg.Now = s.gate.After, s.clock.Now
	s.tr = newTransport(t, cfg)

	return s
}

func revoked(tr *wsrelay.Transport) bool {
	select {
	case <-tr.Revoked():
		return true
	default:
		return false
	}
}

func waitRevoked(t *testing.T, tr *wsrelay.Transport) {
	t.Helper()

	select {
	case <-tr.Revoked():
	case <-time.After(waitTimeout):
		t.Fatal("revocation not latched")
	}
}

func TestRevocation(t *testing.T) {
	tests := []struct {
		name   string
		policy wsrelaytest.AuthPolicy
		// refuse makes the connector refuse the fresh token.
		refuse func(s *wsrelaytest.Server)
	}{
		{
			name:   "fresh token refused with HTTP 401 at the upgrade",
			policy: wsrelaytest.RefuseUpgrade,
			refuse: func(s *wsrelaytest.Server) { s.SetSecrets(testGateway) },
		},
		{
			name:   "fresh token refused with HTTP 403 at the upgrade",
			refuse: func(s *wsrelaytest.Server) { s.SetRefuseStatus(http.StatusForbidden) },
		},
		{
			name:   "fresh token closed 4401 right after the upgrade",
			policy: wsrelaytest.CloseAfterUpgrade,
			refuse: func(s *wsrelaytest.Server) { s.SetSecrets(testGateway) },
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuthSetup(t, wsrelaytest.WithAuthPolicy(tt.policy))
			connectAndHandshake(t, s.tr)
			tt.refuse(s.srv)

			require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))

			waitRevoked(t, s.tr)
			assert.Equal(t, 2, s.srv.DialCount(), "one immediate re-dial, then none")
			_, err := s.tr.Handshake(testCtx(t))
			require.ErrorIs(t, err, wsrelay.ErrRevoked)
			require.ErrorIs(t, s.tr.Connect(testCtx(t)), wsrelay.ErrRevoked)
		})
	}
}

func TestRevocationAfterTheFreshLinksDescriptor(t *testing.T) {
	s := newAuthSetup(t)
	connectAndHandshake(t, s.tr)

	require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))
	waitHandshake(t, s.srv, s.tr, 2)
	require.False(t, revoked(s.tr), "the first 4401 is provisional")
	require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))

	waitRevoked(t, s.tr)
	assert.Equal(t, 2, s.srv.DialCount())
	assert.Empty(t, s.gate.calls, "no backoff wait on the way")
}

func TestProvisional4401RedialsAtOnceWithAFreshToken(t *testing.T) {
	s := newAuthSetup(t)
	connectAndHandshake(t, s.tr)
	s.clock.Advance(time.Second)

	require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))

	waitHandshake(t, s.srv, s.tr, 2)
	dials := s.srv.Dials()
	require.Len(t, dials, 2)
	assert.True(t, dials[1].Accepted)
	assert.NotEqual(t, dials[0].Token, dials[1].Token)
	assert.Empty(t, s.gate.calls, "no backoff before the fresh-token re-dial")

	// A later ordinary drop goes back to the backoff path, and a later
	// 4401 is provisional again.
	require.NoError(t, s.srv.Drop())
	s.gate.release(t, time.Second)
	waitHandshake(t, s.srv, s.tr, 3)
	require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))
	waitHandshake(t, s.srv, s.tr, 4)
	assert.False(t, revoked(s.tr))
}

func TestUnauthorizedBeforeAnyHandshakeIsRetryable(t *testing.T) {
	s := newAuthSetup(t, wsrelaytest.WithoutDescriptors())
	require.NoError(t, s.tr.Connect(testCtx(t)))
	require.NoError(t, s.srv.WaitConnections(testCtx(t), 1))

	require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))
	s.gate.release(t, time.Second)
	require.NoError(t, s.srv.WaitConnections(testCtx(t), 2))
	require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))
	s.gate.release(t, 2*time.Second)
	require.NoError(t, s.srv.WaitConnections(testCtx(t), 3))
	s.srv.SetAnswerHellos(true)
	require.NoError(t, s.srv.SendDescriptor(s.srv.Descriptor("discord")))

	_, err := s.tr.Handshake(testCtx(t))
	require.NoError(t, err)
	assert.False(t, revoked(s.tr))
}

func TestExpiredIsNeverARevocation(t *testing.T) {
	s := newAuthSetup(t)
	connectAndHandshake(t, s.tr)

	for i := range 3 {
		require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "expired"))
		s.gate.release(t, time.Second<<i)
		waitHandshake(t, s.srv, s.tr, 2+i)
	}

	assert.False(t, revoked(s.tr))
}

func TestExpiredRefusalOfTheFreshTokenIsNotARevocation(t *testing.T) {
	s := newAuthSetup(t)
	connectAndHandshake(t, s.tr)
	// Tokens minted from now on have already expired for the connector.
	s.clock.Advance(-time.Hour)

	require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))
	require.NoError(t, s.srv.WaitDials(testCtx(t), 2))
	s.gate.release(t, time.Second)
	require.NoError(t, s.srv.WaitDials(testCtx(t), 3))

	assert.False(t, revoked(s.tr))
	d := s.srv.Dials()[1]
	assert.False(t, d.Accepted)
}

func TestUnauthorizedUpgradeAtAnOrdinaryRedialEarnsOneFreshRetry(t *testing.T) {
	tests := []struct {
		name   string
		refuse func(s *wsrelaytest.Server)
	}{
		{
			name:   "HTTP 401",
			refuse: func(s *wsrelaytest.Server) { s.SetSecrets(testGateway) },
		},
		{
			name:   "HTTP 403",
			refuse: func(s *wsrelaytest.Server) { s.SetRefuseStatus(http.StatusForbidden) },
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuthSetup(t)
			connectAndHandshake(t, s.tr)
			tt.refuse(s.srv)

			require.NoError(t, s.srv.Drop())
			s.gate.release(t, time.Second)

			waitRevoked(t, s.tr)
			assert.Equal(t, 3, s.srv.DialCount(), "the refused re-dial, then one fresh one")
			assert.Empty(t, s.gate.calls, "no backoff before the fresh-token re-dial")
		})
	}
}

func TestFreshRedialFailingForAnotherReasonVoidsTheJudgment(t *testing.T) {
	s := newAuthSetup(t)
	connectAndHandshake(t, s.tr)
	s.srv.SetRefuseStatus(http.StatusServiceUnavailable)

	require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))
	require.NoError(t, s.srv.WaitDials(testCtx(t), 2))

	// The fresh dial never reached the credential check: back off, and
	// judge the next refusal from the start.
	c := s.gate.next(t)
	assert.Equal(t, time.Second, c.d)
	assert.False(t, revoked(s.tr))
	s.srv.SetRefuseStatus(http.StatusUnauthorized)
	c.fire <- time.Now()

	waitRevoked(t, s.tr)
	assert.Equal(t, 4, s.srv.DialCount(), "a refusal, then one fresh re-dial at once")
	assert.Empty(t, s.gate.calls)
}

func TestFreshLinkThatStayedUpIsJudgedAnew(t *testing.T) {
	s := newAuthSetup(t)
	connectAndHandshake(t, s.tr)

	require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))
	waitHandshake(t, s.srv, s.tr, 2)
	// The fresh-token link stays up long enough to be stable: a 4401 on it
	// is a new, provisional refusal.
	s.clock.Advance(wsrelay.DefaultStableAfter)
	require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))

	waitHandshake(t, s.srv, s.tr, 3)
	assert.False(t, revoked(s.tr))
	assert.Empty(t, s.gate.calls, "the new fresh-token re-dial is immediate")

	require.NoError(t, s.srv.CloseLink(wsrelay.CloseUnauthorized, "unauthorized"))
	waitRevoked(t, s.tr)
}
