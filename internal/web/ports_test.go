package web

import (
	"github.com/ofpdp/ofpdp/internal/jose"
	"github.com/ofpdp/ofpdp/internal/paynet"
	"github.com/ofpdp/ofpdp/internal/store"
)

// The real dependencies satisfy the journey's interfaces.
var (
	_ Store             = (*store.Store)(nil)
	_ SignatureVerifier = (*jose.Verifier)(nil)
	_ IDTokenSigner     = (*jose.Signer)(nil)
	_ ConsentUpdater    = (*paynet.Client)(nil)
)
