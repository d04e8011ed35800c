package ops

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/store"
	"github.com/ofpdp/ofpdp/internal/storetest"
)

const (
	viewerToken   = "viewer-token-0123456789abcdef0123456789"
	operatorToken = "operator-token-0123456789abcdef012345678"
)

func tokenLine(name, role, tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return fmt.Sprintf(`{"name":%q,"role":%q,"token_sha256":%q}`, name, role, hex.EncodeToString(sum[:]))
}

func writeTokens(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("["+strings.Join(lines, ",")+"]"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// mgmtClock is a settable clock.
type mgmtClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *mgmtClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *mgmtClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mgmtRig is the admin API over a real store with a viewer (vera) and an operator (alice).
type mgmtRig struct {
	h      http.Handler
	st     *store.Store
	clock  *mgmtClock
	tokens string
}

func newMgmtRig(t *testing.T, url string) *mgmtRig {
	t.Helper()
	ctx := context.Background()
	clk := &mgmtClock{t: t0}
	st, err := store.Open(ctx, url, store.Options{Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "admin-tokens.json")
	writeTokens(t, path, tokenLine("vera", RoleViewer, viewerToken), tokenLine("alice", RoleOperator, operatorToken))
	ops, err := OpenTokensFile(path, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"m-1", "m-2"} {
		c := consent.Consent{ConsentID: id, DCID: "DC1", DPID: "DP1", IDType: consent.IDTypeNRIC,
			HashedIDNumber: consent.HashIDNumber("900101145678"), ConsentType: consent.TypeAccountAccessURN,
			Purpose: consent.PurposePFM, Permissions: []consent.Permission{consent.PermReadAccounts},
			ExpirationDatetime: t0.AddDate(1, 0, 0), Status: consent.StatusAwaitingAuthorization,
			CreatedAt: t0, UpdatedAt: t0, UpdatedBy: "ofp"}
		raw, _ := json.Marshal(map[string]any{"event_type": consent.EventCreated, "data": map[string]any{"status": "awaiting_authorization"}})
		if _, err := st.ApplyEvent(ctx, consent.Event{Type: consent.EventCreated, Consent: c, Raw: raw}, store.EventReceipt{ReceivedAt: clk.now()}); err != nil {
			t.Fatal(err)
		}
		clk.add(time.Minute)
		a := store.Authorization{Status: consent.StatusAuthorized, CustomerRef: "cust-7", DecidedAt: clk.now(),
			Accounts: []store.AuthorizedAccount{{AccountID: "acc-" + id, AccountRef: "REF", AccountNumber: "5123456789012", AccountName: "Savings"}},
			Approved: new(consent.Approve(c, []string{"acc-" + id})),
			Channel:  &store.DecisionChannel{Surface: store.ChannelWeb, SameDevice: i == 0, AuthMode: "password", Factor: "none"}}
		if _, err := st.Authorize(ctx, id, 1, a); err != nil {
			t.Fatal(err)
		}
		clk.add(time.Minute)
	}
	h := New(Options{Operators: ops, Admin: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: clk.now})
	return &mgmtRig{h: h, st: st, clock: clk, tokens: path}
}

func (r *mgmtRig) do(method, path, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	r.h.ServeHTTP(w, req)
	return w
}

func (r *mgmtRig) audits(t *testing.T) []store.AuditEntry {
	t.Helper()
	es, err := r.st.AuditEntries(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestAdminConsentManagement: roles (a viewer cannot revoke), audit rows with the operator's
// name, masking, the revocation's effect and the export's content, on both engines.
func TestAdminConsentManagement(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(e.Name, func(t *testing.T) {
			r := newMgmtRig(t, e.URL(t))
			ctx := context.Background()

			if w := r.do("GET", "/admin/v1/consents", "nope", ""); w.Code != 401 {
				t.Fatalf("unknown token: %d", w.Code)
			}
			w := r.do("GET", "/admin/v1/consents?customer_ref=cust-7&status=authorized&limit=1", viewerToken, "")
			var page struct {
				Consents []adminSummary `json:"consents"`
				Next     string         `json:"next_cursor"`
			}
			if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &page) != nil || len(page.Consents) != 1 ||
				page.Consents[0].ConsentID != "m-2" || page.Next == "" {
				t.Fatalf("search: %d %s", w.Code, w.Body)
			}
			w = r.do("GET", "/admin/v1/consents?customer_ref=cust-7&limit=1&cursor="+page.Next, viewerToken, "")
			if w.Code != 200 || !strings.Contains(w.Body.String(), `"m-1"`) {
				t.Fatalf("second page: %d %s", w.Code, w.Body)
			}
			for _, bad := range []string{"status=gone", "created_from=yesterday", "limit=0", "cursor=%21%21"} {
				if w := r.do("GET", "/admin/v1/consents?"+bad, viewerToken, ""); w.Code != 400 {
					t.Errorf("%s: %d", bad, w.Code)
				}
			}

			// A viewer cannot revoke: 403, audited, nothing changes.
			if w := r.do("POST", "/admin/v1/consents/m-1/revoke", viewerToken, `{"reason":"fraud report 42"}`); w.Code != 403 {
				t.Fatalf("viewer revoke: %d %s", w.Code, w.Body)
			}
			if rec, _ := r.st.GetConsent(ctx, "m-1"); rec.Consent.Status != consent.StatusAuthorized {
				t.Fatalf("a viewer's revocation changed the consent: %s", rec.Consent.Status)
			}
			for _, body := range []string{``, `{}`, `{"reason":"  "}`, `{"reason":"x","extra":1}`} {
				if w := r.do("POST", "/admin/v1/consents/m-1/revoke", operatorToken, body); w.Code != 400 {
					t.Errorf("revoke with %q: %d", body, w.Code)
				}
			}
			if w := r.do("POST", "/admin/v1/consents/m-1/revoke", operatorToken, `{"reason":"fraud report 42"}`); w.Code != 200 ||
				!strings.Contains(w.Body.String(), `"outcome":"revoked"`) {
				t.Fatalf("operator revoke: %d %s", w.Code, w.Body)
			}
			if w := r.do("POST", "/admin/v1/consents/m-1/revoke", operatorToken, `{"reason":"again"}`); w.Code != 200 ||
				!strings.Contains(w.Body.String(), `"already_revoked"`) {
				t.Fatalf("second revoke: %d %s", w.Code, w.Body)
			}
			if w := r.do("POST", "/admin/v1/consents/zz/revoke", operatorToken, `{"reason":"x"}`); w.Code != 404 {
				t.Fatalf("unknown consent: %d", w.Code)
			}
			rec, err := r.st.GetConsent(ctx, "m-1")
			if err != nil || rec.Consent.Status != consent.StatusRevoked {
				t.Fatalf("after the revocation: %v %v", rec, err)
			}
			items, _ := r.st.ListOutbox(ctx, 10)
			if len(items) != 1 || items[0].ConsentID != "m-1" || items[0].Status != consent.StatusRevoked || items[0].Reason != ReasonOperatorRevoked {
				t.Fatalf("outbox %+v", items)
			}

			// One consent: identity hashed, account number masked, history with the operator.
			w = r.do("GET", "/admin/v1/consents/m-1", viewerToken, "")
			body := w.Body.String()
			if w.Code != 200 || strings.Contains(body, "5123456789012") || !strings.Contains(body, `"*********9012"`) ||
				!strings.Contains(body, consent.HashIDNumber("900101145678")) || strings.Contains(body, "900101145678") ||
				!strings.Contains(body, `"actor":"alice","channel":"admin"`) || !strings.Contains(body, `"web/same_device/password/none"`) {
				t.Fatalf("read one: %d %s", w.Code, body)
			}

			// Export: JSON and CSV hold grant, change and revocation, who/when/channel.
			w = r.do("GET", "/admin/v1/customers/cust-7/consents/export", viewerToken, "")
			var exp struct {
				Records []exportRecord `json:"records"`
			}
			if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &exp) != nil {
				t.Fatalf("export: %d %s", w.Code, w.Body)
			}
			var kinds []string
			for _, rec := range exp.Records {
				if rec.ConsentID == "m-1" {
					kinds = append(kinds, rec.Kind+":"+rec.Status+":"+rec.Actor+":"+rec.Channel)
				}
			}
			if want := "[paynet_event:awaiting_authorization:paynet:api decision:authorized:customer:web/same_device/password/none local_change:revoked:alice:admin]"; fmt.Sprint(kinds) != want {
				t.Fatalf("m-1 records %v, want %s", kinds, want)
			}
			w = r.do("GET", "/admin/v1/customers/cust-7/consents/export?format=csv", viewerToken, "")
			rows, err := csv.NewReader(w.Body).ReadAll()
			if w.Code != 200 || err != nil || len(rows) != 1+len(exp.Records) || rows[0][0] != "consent_id" ||
				!strings.HasPrefix(w.Header().Get("Content-Type"), "text/csv") {
				t.Fatalf("csv: %d %v %v", w.Code, rows, err)
			}
			if w := r.do("GET", "/admin/v1/customers/cust-7/consents/export?format=xml", viewerToken, ""); w.Code != 400 {
				t.Fatalf("xml export: %d", w.Code)
			}

			// The audit trail names the operator of every request.
			seen := map[string]bool{}
			for _, a := range r.audits(t) {
				seen[a.Actor+" "+a.Action+" "+a.ConsentID+" "+a.Outcome] = true
			}
			for _, want := range []string{
				"vera admin.search_consents  200",
				"vera admin.revoke_consent m-1 forbidden",
				"alice admin.revoke_consent m-1 revoked",
				"alice admin.revoke_consent m-1 already_revoked",
				"vera admin.read_consent m-1 200",
				"vera admin.export_customer  200",
			} {
				if !seen[want] {
					t.Errorf("no audit row %q in %v", want, seen)
				}
			}
		})
	}
}

// TestTokensFileReload: operators are added and removed by editing the file; a broken edit
// keeps the previous operators.
func TestTokensFileReload(t *testing.T) {
	clk := &mgmtClock{t: t0}
	path := filepath.Join(t.TempDir(), "tokens.json")
	writeTokens(t, path, tokenLine("vera", RoleViewer, viewerToken))
	f, err := OpenTokensFile(path, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	if op, ok := f.Operator(viewerToken); !ok || op != (Operator{Name: "vera", Role: RoleViewer}) {
		t.Fatalf("vera: %+v %v", op, ok)
	}
	writeTokens(t, path, tokenLine("alice", RoleOperator, operatorToken), tokenLine("bob", RoleViewer, "bob-token-0123456789abcdef0123456789ab"))
	clk.add(2 * time.Second)
	if _, ok := f.Operator(viewerToken); ok {
		t.Fatal("a removed operator still signs in")
	}
	if op, ok := f.Operator(operatorToken); !ok || op.Name != "alice" {
		t.Fatalf("alice after reload: %+v %v", op, ok)
	}
	if err := os.WriteFile(path, []byte(`[{"name":"x"`), 0o600); err != nil {
		t.Fatal(err)
	}
	clk.add(2 * time.Second)
	if _, ok := f.Operator(operatorToken); !ok || f.Err() == nil {
		t.Fatalf("a broken edit dropped the operators (err %v)", f.Err())
	}
	for _, bad := range []string{
		`[` + tokenLine("a b", RoleViewer, "t") + `]`,
		`[` + tokenLine("a", "admin", "t") + `]`,
		`[{"name":"a","role":"viewer","token_sha256":"abc"}]`,
		`[` + tokenLine("a", RoleViewer, "t") + `,` + tokenLine("a", RoleOperator, "u") + `]`,
		`[` + tokenLine("a", RoleViewer, "t") + `,` + tokenLine("b", RoleOperator, "t") + `]`,
		`[{"name":"a","role":"viewer","token":"plain"}]`,
	} {
		if _, err := ParseTokens([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}
