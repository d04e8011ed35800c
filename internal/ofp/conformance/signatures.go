package conformance

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/ofpdp/ofpdp/internal/ofp/stdjose"
	"net/http"
	"net/url"
	"strings"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// signatures runs negative-tests §5.2 (S1–S4, S6–S10, S12–S14) against POST /v1/consents/events
// and, for S14, a GET of the resource server. Every case sends a body the DP would accept with a
// good signature (a consent_created it has already stored, so a redelivery), so a 2xx can only mean
// the bad signature was accepted. The controls (S0, S10-skew, S13-unencoded) show that a correct
// signature is accepted.
func (r *runner) signatures(ctx context.Context) {
	id := newID()
	body, err := r.createdEvent(id, r.now())
	if err != nil {
		r.prerequisite("S0", "Valid detached signature", "200", err)
		return
	}
	pk := r.k.paynetSig
	std := r.pn.stdHeader
	send := func(sig *string, b []byte) (*apiResp, error) {
		return r.pn.do(ctx, call{method: http.MethodPost, path: "/v1/consents/events", body: b, sig: sig})
	}
	build := func(s stdjose.Spec) (string, error) {
		if s.Payload == nil {
			s.Payload = body
		}
		if s.Alg == "" {
			s.Alg = pk.Alg
		}
		if s.Key == nil {
			s.Key = pk.Key
		}
		return s.Build()
	}
	// refused sends body with the signature spec builds and expects 401 with one of codes.
	const sigCodes = "JWS.InvalidSignature or JWS.InvalidClaim"
	refused := func(s stdjose.Spec, codes ...string) func() (string, bool) {
		return func() (string, bool) {
			sig, err := build(s)
			if err != nil {
				return err.Error(), false
			}
			a, err := send(&sig, body)
			if err != nil {
				return oneLine(err), false
			}
			r.observe("signature refusal", a)
			if len(codes) == 0 {
				codes = []string{"JWS.InvalidSignature", "JWS.InvalidClaim"}
			}
			return a.describe(), expectRefusal(a, http.StatusUnauthorized, codes...)
		}
	}
	accepted := func(s stdjose.Spec) func() (string, bool) {
		return func() (string, bool) {
			sig, err := build(s)
			if err != nil {
				return err.Error(), false
			}
			a, err := send(&sig, body)
			if err != nil {
				return oneLine(err), false
			}
			return a.describe(), a.Status == http.StatusOK
		}
	}

	r.check("S0", "Control: consent_created with a valid detached signature (b64 true)", "200", accepted(stdjose.Spec{Header: std(), Detached: true}))

	r.check("S1", "x-fapi-signature absent", "401 JWS.InvalidSignature", func() (string, bool) {
		a, err := send(strp(""), body)
		if err != nil {
			return oneLine(err), false
		}
		r.observe("signature missing", a)
		return a.describe(), expectRefusal(a, http.StatusUnauthorized, "JWS.InvalidSignature")
	})
	mangled := func(f func(string) string) func() (string, bool) {
		return func() (string, bool) {
			sig, err := build(stdjose.Spec{Header: std(), Detached: true})
			if err != nil {
				return err.Error(), false
			}
			bad := f(sig)
			a, err := send(&bad, body)
			if err != nil {
				return oneLine(err), false
			}
			return a.describe(), expectRefusal(a, http.StatusUnauthorized, "JWS.InvalidSignature", "JWS.InvalidClaim")
		}
	}
	r.check("S2-append", "Valid signature with one character appended", "401 "+sigCodes, mangled(func(s string) string { return s + "A" }))
	r.check("S2-truncate", "Valid signature with the last character removed", "401 "+sigCodes, mangled(func(s string) string { return s[:len(s)-1] }))

	stranger, err := freshKeyLike(pk.Key)
	if err != nil {
		r.prerequisite("S3", "Signed with an unregistered key", "401", err)
	} else {
		r.check("S3", "Signed with a well-formed key that is not PayNet's, under PayNet's kid", "401 JWS.InvalidSignature",
			refused(stdjose.Spec{Header: std(), Detached: true, Key: stranger}, "JWS.InvalidSignature"))
	}

	r.check("S4", "Signature over the original body; body sent with consent_id changed", "401; the altered consent is not stored",
		func() (string, bool) {
			sig, err := build(stdjose.Spec{Header: std(), Detached: true})
			if err != nil {
				return err.Error(), false
			}
			other := newID()
			altered := []byte(strings.Replace(string(body), id, other, 1))
			a, err := send(&sig, altered)
			if err != nil {
				return oneLine(err), false
			}
			r.observe("altered body", a)
			got := a.describe()
			if !expectRefusal(a, http.StatusUnauthorized, "JWS.InvalidSignature", "JWS.InvalidClaim") {
				return got, false
			}
			asig, err := r.authorizeSignature(other)
			if err != nil {
				return got + "; " + err.Error(), false
			}
			pg, ok := r.refusedAuthorize(ctx, r.authorizeURL(other, r.t.RedirectURI, asig), true)
			return got + "; authorize for the altered consent: " + pg, ok
		})

	pemKey := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pk.Cert.Raw})
	r.check("S6-none", "alg none, empty signature", "401 JWS.InvalidSignature",
		refused(stdjose.Spec{Header: std().With("alg", "none"), Detached: true, Alg: "none"}, "JWS.InvalidSignature"))
	r.check("S6-hs256", "alg HS256 keyed with PayNet's certificate (algorithm confusion)", "401 JWS.InvalidSignature",
		refused(stdjose.Spec{Header: std().With("alg", "HS256"), Detached: true, Alg: "HS256", Key: pemKey}, "JWS.InvalidSignature"))
	if _, isRSA := pk.Key.(*rsa.PrivateKey); isRSA {
		r.check("S6-rs256", "alg RS256 (PKCS #1 v1.5) by PayNet's own RSA key", "401 JWS.InvalidSignature",
			refused(stdjose.Spec{Header: std().With("alg", "RS256"), Detached: true, Alg: "RS256"}, "JWS.InvalidSignature"))
	} else if _, isEC := pk.Key.(*ecdsa.PrivateKey); isEC {
		r.check("S6-es256", "alg ES256 by PayNet's own EC key (an alg outside PS256/ES384/ES512)", "401 JWS.InvalidSignature",
			refused(stdjose.Spec{Header: std().With("alg", "ES256"), Detached: true, Alg: "ES256"}, "JWS.InvalidSignature"))
	}

	if stranger != nil {
		r.check("S7-kid", "Unknown kid (a key PayNet never published)", "401 JWS.InvalidSignature",
			refused(stdjose.Spec{Header: std().With("kid", "unknown-"+newID()), Detached: true, Key: stranger}, "JWS.InvalidSignature"))
	}
	if encAlg, err := algOf(r.k.dcEnc); err == nil {
		r.check("S7-enc", "Signed with the DC's encryption key (use=enc) under its kid", "401 JWS.InvalidSignature",
			refused(stdjose.Spec{Header: std().With("alg", encAlg).With("kid", r.k.dcEncKid), Detached: true, Alg: encAlg, Key: r.k.dcEnc},
				"JWS.InvalidSignature"))
	}

	for _, name := range []string{"iss", "jti", "iat"} {
		crit := []string{}
		for _, c := range []string{"iat", "iss", "jti"} {
			if c != name {
				crit = append(crit, c)
			}
		}
		r.check("S8-"+name, fmt.Sprintf("Protected header without %s (and crit without it)", name), "401 "+sigCodes,
			refused(stdjose.Spec{Header: std().Without(name).With("crit", crit), Detached: true}))
	}
	r.check("S8-kid", "Protected header without kid", "401 JWS.InvalidSignature",
		refused(stdjose.Spec{Header: std().Without("kid"), Detached: true}, "JWS.InvalidSignature"))
	r.check("S8-crit", "Protected header without crit", "401 "+sigCodes, refused(stdjose.Spec{Header: std().Without("crit"), Detached: true}))

	r.check("S9-unknown", "crit names a header the DP cannot understand (x-custom)", "401 "+sigCodes,
		refused(stdjose.Spec{Header: std().With("x-custom", "1").With("crit", []string{"iat", "iss", "jti", "x-custom"}), Detached: true}))
	r.check("S9-omits", "crit omits jti (present in the header)", "401 "+sigCodes,
		refused(stdjose.Spec{Header: std().With("crit", []string{"iat", "iss"}), Detached: true}))
	r.check("S9-empty", "crit is an empty array", "401 "+sigCodes, refused(stdjose.Spec{Header: std().With("crit", []string{}), Detached: true}))

	iat := func(sec int64) stdjose.Header { return std().With("iat", r.now().Unix()+sec) }
	r.check("S10-past", "iat 5 minutes + 1 second in the past", "401 JWS.InvalidClaim",
		refused(stdjose.Spec{Header: iat(-301), Detached: true}, "JWS.InvalidClaim"))
	r.check("S10-future", "iat 5 minutes + 1 second in the future", "401 JWS.InvalidClaim",
		refused(stdjose.Spec{Header: iat(301), Detached: true}, "JWS.InvalidClaim"))
	r.check("S10-skew", "Control: iat 9 seconds in the future (clock skew)", "200", accepted(stdjose.Spec{Header: iat(9), Detached: true}))

	r.check("S12-dckey", "iss claims PayNet, signed with the DC's signing key under its kid", "401 "+sigCodes,
		refused(stdjose.Spec{Header: std().With("alg", r.k.dcSig.Alg).With("kid", r.k.dcSig.Kid), Detached: true,
			Alg: r.k.dcSig.Alg, Key: r.k.dcSig.Key}))
	r.check("S12-iss", "iss is the DC's id, signed with PayNet's key", "401 JWS.InvalidClaim",
		refused(stdjose.Spec{Header: std().With("iss", r.t.DCID), Detached: true}, "JWS.InvalidClaim"))

	r.check("S13-attached", "Attached JWS (payload segment present) where detached is required", "401 "+sigCodes,
		refused(stdjose.Spec{Header: std()}))
	b64false := std().With("b64", false).With("crit", []string{"iat", "iss", "jti", "b64"})
	r.check("S13-variant", "b64:false in the header, but signed over the base64url payload", "401 "+sigCodes,
		refused(stdjose.Spec{Header: b64false, Detached: true}))
	r.check("S13-crit", "b64:false without \"b64\" in crit (RFC 7797 §6)", "401 "+sigCodes,
		refused(stdjose.Spec{Header: std().With("b64", false), Detached: true, Unencoded: true}))
	r.check("S13-unencoded", "Control: b64:false with crit [iat, iss, jti, b64], signed over the raw body (RFC 7797)", "200",
		accepted(stdjose.Spec{Header: b64false, Detached: true, Unencoded: true}))

	r.urlBinding(ctx)
}

// urlBinding is S14: an attached GET signature whose url claim names another path must not
// authorize this request; the same form naming the request's own URL is the control.
func (r *runner) urlBinding(ctx context.Context) {
	consentID, account := newID(), "acc-"+newID()[:8]
	okStatus := "not 401"
	if m, err := r.mainConsent(); err == nil {
		consentID, account = m.ConsentID, m.Accounts[0]
		okStatus = "200"
	}
	path := "/v1/accounts/" + url.PathEscape(account) + "/balances?" + url.Values{"consent_id": {consentID}}.Encode()
	other := "/v1/accounts/" + url.PathEscape(account) + "/transactions?" + url.Values{"consent_id": {consentID}}.Encode()
	attached := func(signedPath string) (*apiResp, error) {
		claims, err := json.Marshal(map[string]any{"url": r.t.APIURL + signedPath, "qpm": map[string]string{"consent_id": consentID}})
		if err != nil {
			return nil, err
		}
		sig, err := stdjose.Spec{Header: r.pn.stdHeader(), Payload: claims, Alg: r.k.paynetSig.Alg, Key: r.k.paynetSig.Key}.Build()
		if err != nil {
			return nil, err
		}
		c := r.pn.dataCall(path)
		c.sig = &sig
		return r.dataDo(ctx, c)
	}
	r.check("S14", "GET balances with an attached signature whose url claim names …/transactions", "401 JWS.InvalidClaim",
		func() (string, bool) {
			a, err := attached(other)
			if err != nil {
				return oneLine(err), false
			}
			return a.describe(), expectRefusal(a, http.StatusUnauthorized, "JWS.InvalidClaim", "JWS.InvalidSignature")
		})
	r.check("S14-control", "Control: the same attached form naming the request's own URL", okStatus, func() (string, bool) {
		a, err := attached(path)
		if err != nil {
			return oneLine(err), false
		}
		if okStatus == "200" {
			return a.describe(), a.Status == http.StatusOK
		}
		return a.describe(), a.Status != http.StatusUnauthorized
	})
}

// freshKeyLike generates a key of the same kind as k, unknown to everyone.
func freshKeyLike(k crypto.Signer) (crypto.Signer, error) {
	switch pk := k.(type) {
	case *rsa.PrivateKey:
		return rsa.GenerateKey(rand.Reader, pk.N.BitLen())
	case *ecdsa.PrivateKey:
		return ecdsa.GenerateKey(pk.Curve, rand.Reader)
	}
	return nil, fmt.Errorf("unsupported key type %T", k)
}

// algOf is the JWS alg a key signs with in this profile (RSA → PS256, P-384 → ES384, P-521 → ES512).
func algOf(k crypto.Signer) (string, error) {
	switch pk := k.(type) {
	case *rsa.PrivateKey:
		return "PS256", nil
	case *ecdsa.PrivateKey:
		switch pk.Curve.Params().BitSize {
		case 384:
			return "ES384", nil
		case 521:
			return "ES512", nil
		}
	}
	return "", fmt.Errorf("no profile alg for %T", k)
}

// statusEvent is a consent event carrying the consent as the simulator holds it.
func statusEvent(t wire.EventType, c sim.Consent) ([]byte, error) {
	return json.Marshal(sim.Event{EventType: t, Data: c})
}
