package jose

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func decodeSeg(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSignDetached(t *testing.T) {
	for _, kn := range []string{kDPRSA, kDPP384} {
		t.Run(kn, func(t *testing.T) {
			sk := signingKey(t, kn)
			s := &Signer{Key: sk, Issuer: "DP9876543210", Now: clock, NewID: seqIDs("p")}
			body := []byte(`{"status":"authorized"}`)
			a, err := s.SignDetached(body)
			if err != nil {
				t.Fatal(err)
			}
			b, err := s.SignDetached(body)
			if err != nil {
				t.Fatal(err)
			}
			seg := strings.Split(a, ".")
			if len(seg) != 3 || seg[1] != "" {
				t.Fatalf("not detached: %q", a)
			}
			h := decodeSeg(t, seg[0])
			want := map[string]any{"alg": sk.Alg, "kid": sk.Kid, "iss": "DP9876543210", "jti": "p-1",
				"iat": float64(fixedNow.Unix()), "crit": []any{"iat", "iss", "jti"}}
			if len(h) != len(want) {
				t.Fatalf("header %v", h)
			}
			for k, v := range want {
				if gb, _ := json.Marshal(h[k]); string(gb) != string(mustJSON(t, v)) {
					t.Fatalf("header %s = %v, want %v", k, h[k], v)
				}
			}
			if decodeSeg(t, strings.Split(b, ".")[0])["jti"] != "p-2" {
				t.Fatal("jti not renewed per call")
			}
			// PayNet (a Verifier with the DP key) accepts it.
			v := &Verifier{Keys: StaticKeys{Set: &KeySet{Keys: []PublicKey{pubKey(t, kn, UseSig)}}}, Replay: NewMemoryReplay(clock), Now: clock, Issuer: "DP9876543210"}
			if _, err := v.VerifyDetached(bg, a, body); err != nil {
				t.Fatal(err)
			}
			if _, err := v.VerifyDetached(bg, b, []byte(`{"status":"rejected"}`)); !errors.Is(err, ErrSignature) {
				t.Fatalf("other body: %v", err)
			}
		})
	}
	s := &Signer{Key: signingKey(t, kDPRSA), Now: clock}
	if _, err := s.SignDetached(nil); err == nil {
		t.Fatal("signed without Issuer")
	}
	s = &Signer{Key: signingKey(t, kDPRSA), Issuer: "DP", NewID: func() string { return "" }}
	if _, err := s.SignDetached(nil); err == nil {
		t.Fatal("signed with an empty jti")
	}
	// Default NewID and Now: uuid and the real clock.
	s = &Signer{Key: signingKey(t, kDPRSA), Issuer: "DP"}
	sig, err := s.SignDetached(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := decodeSeg(t, strings.Split(sig, ".")[0])
	if jti, _ := h["jti"].(string); len(jti) != 36 {
		t.Fatalf("default jti %q", jti)
	}
	if iat, _ := h["iat"].(float64); time.Since(time.Unix(int64(iat), 0)) > time.Minute {
		t.Fatalf("default iat %v", iat)
	}
}

func TestSignAttached(t *testing.T) {
	s := payNetSigner(t, kPayNetRSA)
	sig, err := s.SignAttached([]byte(consentID))
	if err != nil {
		t.Fatal(err)
	}
	seg := strings.Split(sig, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(seg[0])
	if want := `{"alg":"PS256","kid":"` + s.Key.Kid + `"}`; string(hb) != want {
		t.Fatalf("header %s, want exactly %s", hb, want)
	}
	if p, _ := base64.RawURLEncoding.DecodeString(seg[1]); string(p) != consentID {
		t.Fatalf("payload %q", p)
	}
	if _, p, err := newVerifier(t).VerifyAttached(bg, sig); err != nil || string(p) != consentID {
		t.Fatalf("verify: %v", err)
	}
}

func TestSignJWTAndIDToken(t *testing.T) {
	s := &Signer{Key: signingKey(t, kDPRSA), Issuer: "DP1", Now: clock}
	c := IDTokenClaims{
		Issuer: "https://dp.bank.example", Subject: "user-123456", Audience: "dc-550e8400",
		IssuedAt: fixedNow, Expiry: fixedNow.Add(600 * time.Second), AuthTime: fixedNow.Add(-100 * time.Second),
		IDType: "nric", HashedIDNumber: "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA==",
	}
	tok, err := s.SignIDToken(c)
	if err != nil {
		t.Fatal(err)
	}
	h, payload, err := oracleVerify(tok, s.Key.Key.Public(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if h["typ"] != "JWT" || h["kid"] != s.Key.Kid || h["alg"] != "PS256" || len(h) != 3 {
		t.Fatalf("header %v", h)
	}
	want := `{"iss":"https://dp.bank.example","sub":"user-123456","aud":"dc-550e8400","exp":1769775000,"iat":1769774400,` +
		`"auth_time":1769774300,"id_type":"nric","hashed_id_number":"eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eA=="}`
	if string(payload) != want {
		t.Fatalf("claims\n%s\nwant\n%s", payload, want)
	}
	if len(tok) > 3000 {
		t.Fatalf("id_token of %d chars exceeds the PATCH limit of 3000 (spec §3.2.1)", len(tok))
	}
	c.Nonce = "n-0S6_WzA2Mj"
	tok, _ = s.SignIDToken(c)
	if _, p, _ := oracleVerify(tok, s.Key.Key.Public(), nil); !strings.Contains(string(p), `"nonce":"n-0S6_WzA2Mj"`) {
		t.Fatalf("nonce missing: %s", p)
	}
	for name, bad := range map[string]func(*IDTokenClaims){
		"no sub":         func(c *IDTokenClaims) { c.Subject = "" },
		"no aud":         func(c *IDTokenClaims) { c.Audience = "" },
		"no iss":         func(c *IDTokenClaims) { c.Issuer = "" },
		"no hash":        func(c *IDTokenClaims) { c.HashedIDNumber = "" },
		"no id_type":     func(c *IDTokenClaims) { c.IDType = "" },
		"exp before iat": func(c *IDTokenClaims) { c.Expiry = c.IssuedAt },
		"no auth_time":   func(c *IDTokenClaims) { c.AuthTime = time.Time{} },
	} {
		cc := c
		bad(&cc)
		if _, err := s.SignIDToken(cc); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
	if _, err := s.SignJWT(map[string]any{"f": func() {}}); err == nil {
		t.Fatal("unmarshalable claims signed")
	}
}
