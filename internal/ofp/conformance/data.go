package conformance

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/stdjose"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

// dataPath is a resource path of spec §3.1.5–3.1.7 with consent_id and extra query parameters.
func dataPath(consentID, accountID, suffix string, q url.Values) string {
	v := url.Values{"consent_id": {consentID}}
	for k, vs := range q {
		v[k] = vs
	}
	return "/v1/accounts/" + url.PathEscape(accountID) + suffix + "?" + v.Encode()
}

// dataDo makes a resource call, keeping its duration (D15) and any error answer (D14).
func (r *runner) dataDo(ctx context.Context, c call) (*apiResp, error) {
	a, err := r.pn.do(ctx, c)
	if err != nil {
		return nil, err
	}
	r.dataTimings = append(r.dataTimings, a.Elapsed)
	r.observe("data "+c.path, a)
	return a, nil
}

// approveConsent runs a whole journey that approves a new consent with perms for the first user,
// sharing the first account offered.
func (r *runner) approveConsent(ctx context.Context, perms []wire.Permission) (*authorized, error) {
	return r.approveAccounts(ctx, perms, false)
}

// approveAccounts is approveConsent sharing the first account offered, or every one with all.
func (r *runner) approveAccounts(ctx context.Context, perms []wire.Permission, all bool) (*authorized, error) {
	resp, err := r.createConsent(ctx, perms)
	if err != nil {
		return nil, err
	}
	j, err := r.startJourney(ctx, resp.ConsentID)
	if err != nil {
		return nil, err
	}
	defer j.close()
	u := r.t.Users[0]
	if err := j.login(ctx, u.Username, u.Password); err != nil {
		return nil, err
	}
	ids, _, err := j.offered()
	if err != nil {
		return nil, err
	}
	if !all {
		ids = ids[:1]
	}
	if err := j.selectAccounts(ctx, ids); err != nil {
		return nil, err
	}
	if err := j.decide(ctx, "approve", requestOpts{}); err != nil {
		return nil, err
	}
	up, err := r.waitUpdate(ctx, j.consentID, func(u sim.UpdateRecord) bool { return u.Accepted })
	if err != nil {
		return nil, err
	}
	if up.Status != string(wire.StatusAuthorized) {
		return nil, fmt.Errorf("the DP sent PATCH %s", up.Status)
	}
	if err := j.back(ctx); err != nil {
		return nil, err
	}
	if _, err := r.visitCallback(ctx, j.last.Exit); err != nil {
		return nil, err
	}
	if _, err := r.waitEvent(ctx, j.consentID, func(e sim.EventRecord) bool {
		return e.Status == wire.StatusAuthorized && e.Accepted()
	}); err != nil {
		return nil, fmt.Errorf("consent_status_updated(authorized) not acknowledged: %w", err)
	}
	return &authorized{ConsentID: j.consentID, Accounts: accountIDs(up.Accounts)}, nil
}

// limitedConsent is consent P: approved with read_balances only (D4, then revoked in C9).
func (r *runner) limitedConsent(ctx context.Context) (*authorized, error) {
	if r.limited == nil && r.limitedErr == nil {
		r.limited, r.limitedErr = r.approveConsent(ctx, []wire.Permission{wire.PermReadBalances})
	}
	return r.limited, r.limitedErr
}

// dataIDs are the rows of the data group, in order.
var dataIDs = []string{"D4", "D5", "D8-echo", "D8-generated", "D8-malformed", "D8-date", "D9", "D10-date", "D10-order",
	"D10-pagesize", "D10-variants", "D12-sealed", "D12-enckid", "D12-noenckid", "D13", "D17", "D18-any", "D18-none",
	"D18-html", "P-account", "P-balances", "P-transactions", "P-userinfo", "D16", "D14", "D15"}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// data runs negative-tests §5.6 D4, D5, D8–D10, D12–D18 against the resource server.
func (r *runner) data(ctx context.Context) {
	m, err := r.mainConsent()
	if err != nil {
		for _, id := range dataIDs {
			r.prerequisite(id, "Resource server check (negative-tests.md §5.6)", "see negative-tests.md", err)
		}
		return
	}
	acct := m.Accounts[0]
	balances := func(q url.Values) call { return r.pn.dataCall(dataPath(m.ConsentID, acct, "/balances", q)) }
	txs := func(q url.Values) call { return r.pn.dataCall(dataPath(m.ConsentID, acct, "/transactions", q)) }

	r.check("D4", "Consent with read_balances only: GET transactions and GET account", "403 AccessToken.InvalidScope for both",
		func() (string, bool) {
			p, err := r.limitedConsent(ctx)
			if err != nil {
				return "consent with read_balances only: " + err.Error(), false
			}
			t, err := r.dataDo(ctx, r.pn.dataCall(dataPath(p.ConsentID, p.Accounts[0], "/transactions", nil)))
			if err != nil {
				return oneLine(err), false
			}
			a, err := r.dataDo(ctx, r.pn.dataCall(dataPath(p.ConsentID, p.Accounts[0], "", nil)))
			if err != nil {
				return oneLine(err), false
			}
			return "transactions " + t.describe() + "; account " + a.describe(),
				expectRefusal(t, http.StatusForbidden, "AccessToken.InvalidScope") && expectRefusal(a, http.StatusForbidden, "AccessToken.InvalidScope")
		})

	r.check("D5", "Balances for accounts outside the consent (made up; another customer's; the customer's own but not selected)",
		"403 Consent.Invalid or 404, never data", func() (string, bool) {
			cases := []string{"acc-" + newID()[:12]}
			if len(r.others) > 0 {
				cases = append(cases, r.others[0])
			}
			if r.unselected != "" {
				cases = append(cases, r.unselected)
			}
			var parts []string
			ok := true
			for _, id := range cases {
				a, err := r.dataDo(ctx, r.pn.dataCall(dataPath(m.ConsentID, id, "/balances", nil)))
				if err != nil {
					return oneLine(err), false
				}
				parts = append(parts, a.describe())
				ok = ok && (expectRefusal(a, http.StatusForbidden, "Consent.Invalid") || expectRefusal(a, http.StatusNotFound))
			}
			return fmt.Sprintf("%d case(s): %s", len(cases), strings.Join(parts, "; ")), ok
		})

	r.check("D8-echo", "x-fapi-interaction-id sent", "echoed unchanged", func() (string, bool) {
		id := newID()
		c := balances(nil)
		c.header.Set(hInteractionID, id)
		a, err := r.dataDo(ctx, c)
		if err != nil {
			return oneLine(err), false
		}
		return fmt.Sprintf("%s, echoed: %v", a.describe(), a.Header.Get(hInteractionID) == id), a.Header.Get(hInteractionID) == id
	})
	r.check("D8-generated", "x-fapi-interaction-id absent", "a UUID generated and returned", func() (string, bool) {
		c := balances(nil)
		c.header.Set(hInteractionID, "")
		a, err := r.dataDo(ctx, c)
		if err != nil {
			return oneLine(err), false
		}
		got := a.Header.Get(hInteractionID)
		return fmt.Sprintf("%s, %q", a.describe(), got), uuidRE.MatchString(got)
	})
	r.check("D8-malformed", "x-fapi-interaction-id not a UUID", "400 invalid_request", func() (string, bool) {
		c := balances(nil)
		c.header.Set(hInteractionID, "not a uuid")
		a, err := r.dataDo(ctx, c)
		if err != nil {
			return oneLine(err), false
		}
		return a.describe(), expectRefusal(a, http.StatusBadRequest, "invalid_request")
	})
	r.check("D8-date", "Date header of a data answer", "present, within 5 minutes of this clock", func() (string, bool) {
		a, err := r.dataDo(ctx, balances(nil))
		if err != nil {
			return oneLine(err), false
		}
		d, err := http.ParseTime(a.Header.Get("Date"))
		if err != nil {
			return fmt.Sprintf("Date %q", a.Header.Get("Date")), false
		}
		skew := r.now().Sub(d)
		return fmt.Sprintf("Date off by %s", skew.Round(time.Second)), skew.Abs() <= 5*time.Minute
	})

	r.check("D9", fmt.Sprintf("Transactions entirely before the %d-month history window", r.t.HistoryMonths),
		"400, or 200 with no transaction (never older data)", func() (string, bool) {
			today := r.now().In(myt)
			from := today.AddDate(0, -r.t.HistoryMonths-1, 0).Format(time.DateOnly)
			to := today.AddDate(0, -r.t.HistoryMonths, -2).Format(time.DateOnly)
			a, err := r.dataDo(ctx, txs(url.Values{"from_date": {from}, "to_date": {to}, "page_size": {"500"}}))
			if err != nil {
				return oneLine(err), false
			}
			if expectRefusal(a, http.StatusBadRequest) {
				return a.describe(), true
			}
			o, err := r.open(a)
			if err != nil {
				return err.Error(), false
			}
			var env struct {
				Data []json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(o.Plaintext, &env); err != nil {
				return "plaintext: " + err.Error(), false
			}
			return fmt.Sprintf("200 with %d transaction(s) from %s to %s", len(env.Data), from, to), len(env.Data) == 0
		})

	badTx := func(id, what string, q url.Values) {
		r.check(id, what, "400 invalid_request", func() (string, bool) {
			a, err := r.dataDo(ctx, txs(q))
			if err != nil {
				return oneLine(err), false
			}
			return a.describe(), expectRefusal(a, http.StatusBadRequest, "invalid_request")
		})
	}
	badTx("D10-date", "from_date 2025-13-45", url.Values{"from_date": {"2025-13-45"}})
	badTx("D10-order", "from_date after to_date", url.Values{"from_date": {"2025-06-30"}, "to_date": {"2025-06-01"}})
	badTx("D10-pagesize", "page_size 5 (outside 10..500)", url.Values{"page_size": {"5"}})
	r.check("D10-variants", "from_date as a date, as a date-time with +08:00, and with Z", "200 for each", func() (string, bool) {
		day := r.now().In(myt).AddDate(0, -1, 0)
		var parts []string
		ok := true
		for _, v := range []string{day.Format(time.DateOnly), day.Format(time.RFC3339), day.UTC().Format(time.RFC3339)} {
			a, err := r.dataDo(ctx, txs(url.Values{"from_date": {v}}))
			if err != nil {
				return oneLine(err), false
			}
			parts = append(parts, fmt.Sprintf("%s → %d", v, a.Status))
			ok = ok && a.Status == http.StatusOK
		}
		return strings.Join(parts, "; "), ok
	})

	r.check("D12-sealed", "GET account and GET transactions answers", "JWS(JWE) verifying with the DP's key, RSA-OAEP-256/A256GCM to x-enc-kid",
		func() (string, bool) {
			var parts []string
			for _, c := range []call{r.pn.dataCall(dataPath(m.ConsentID, acct, "", nil)), txs(url.Values{"page_size": {"10"}})} {
				a, err := r.dataDo(ctx, c)
				if err != nil {
					return oneLine(err), false
				}
				o, err := r.open(a)
				if err != nil {
					return strings.Join(append(parts, err.Error()), "; "), false
				}
				parts = append(parts, fmt.Sprintf("%v kid %s…/%v", o.JWSHeader["alg"], cell(fmt.Sprint(o.JWSHeader["kid"]), 8), o.JWEHeader["enc"]))
			}
			return strings.Join(parts, "; "), true
		})
	r.check("D12-enckid", "x-enc-kid naming no key of the DC", "4xx JSON error, not a JWS", func() (string, bool) {
		c := balances(nil)
		c.header.Set(hEncKid, stdjose.B64.EncodeToString([]byte(newID()+newID()[:1])))
		a, err := r.dataDo(ctx, c)
		if err != nil {
			return oneLine(err), false
		}
		return a.describe(), a.Status >= 400 && a.Status < 500 && a.contentType() == "application/json" && a.errorCode() != ""
	})
	r.check("D12-noenckid", "x-enc-kid absent", "400 invalid_request", func() (string, bool) {
		c := balances(nil)
		c.header.Set(hEncKid, "")
		a, err := r.dataDo(ctx, c)
		if err != nil {
			return oneLine(err), false
		}
		return a.describe(), expectRefusal(a, http.StatusBadRequest, "invalid_request")
	})

	r.check("D13", "JWE of a balances answer", "alg RSA-OAEP-256, enc A256GCM, no zip; a wrong RSA key cannot decrypt it", func() (string, bool) {
		a, err := r.dataDo(ctx, balances(nil))
		if err != nil {
			return oneLine(err), false
		}
		o, err := r.open(a)
		if err != nil {
			return err.Error(), false
		}
		_, zip := o.JWEHeader["zip"]
		wrong, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return err.Error(), false
		}
		_, _, derr := stdjose.Decrypt(o.Claims.Data, wrong)
		got := fmt.Sprintf("alg %v, enc %v, zip %v, wrong key: %v", o.JWEHeader["alg"], o.JWEHeader["enc"], zip, derr != nil)
		return got, o.JWEHeader["alg"] == "RSA-OAEP-256" && o.JWEHeader["enc"] == "A256GCM" && !zip && errors.Is(derr, stdjose.ErrDecrypt)
	})

	r.check("D17", "GET /v1/accounts/{account_id}/foobar", "404 invalid_request (JSON)", func() (string, bool) {
		a, err := r.dataDo(ctx, r.pn.dataCall(dataPath(m.ConsentID, acct, "/foobar", nil)))
		if err != nil {
			return oneLine(err), false
		}
		return a.describe(), expectRefusal(a, http.StatusNotFound, "invalid_request")
	})

	for _, c := range []struct{ id, accept, want string }{
		{"D18-any", "*/*", "200 application/jose"},
		{"D18-none", "", "200 application/jose"},
		{"D18-html", "text/html", "406"},
	} {
		r.check(c.id, fmt.Sprintf("Balances with Accept %q", c.accept), c.want, func() (string, bool) {
			call := balances(nil)
			call.header.Set("Accept", c.accept)
			a, err := r.dataDo(ctx, call)
			if err != nil {
				return oneLine(err), false
			}
			if c.want == "406" {
				return a.describe(), a.Status == http.StatusNotAcceptable
			}
			return a.describe(), a.Status == http.StatusOK && a.contentType() == "application/jose"
		})
	}

	r.payloads(ctx)
	r.burst(ctx, m)

	r.check("D14", "Every error answer of the api listener seen in this run", "JSON {\"error\", \"error_description\"}, never HTML",
		func() (string, bool) {
			if len(r.errorBodies) == 0 {
				return "no error answer seen", false
			}
			for _, e := range r.errorBodies {
				var body struct {
					Error            *string `json:"error"`
					ErrorDescription *string `json:"error_description"`
				}
				if e.contentType != "application/json" || json.Unmarshal(e.body, &body) != nil || body.Error == nil || *body.Error == "" || body.ErrorDescription == nil {
					return fmt.Sprintf("%s: %d %s %q", e.what, e.status, e.contentType, cell(string(e.body), 60)), false
				}
			}
			return fmt.Sprintf("%d error answers, all JSON", len(r.errorBodies)), true
		})
	r.check("D15", "Time to answer every data call of this run", "each within PayNet's 5 s", func() (string, bool) {
		if len(r.dataTimings) == 0 {
			return "no data call made", false
		}
		longest := slices.Max(r.dataTimings)
		return fmt.Sprintf("%d calls, slowest %s", len(r.dataTimings), longest.Round(time.Millisecond)), longest <= 5*time.Second
	})
}

// burstLimit bounds the requests D16 sends.
const burstLimit = 1000

// burst is D16: requests for one DC beyond its rate limit are refused with 429 and Retry-After,
// and another DC is not affected. It uses a data consumer id of its own (a consent created for
// it), so the limit of the DC the other checks use — and of the next run — is untouched.
func (r *runner) burst(ctx context.Context, m *authorized) {
	r.check("D16", "Burst of signed data calls for one DC (a fresh dc_id) until refused; then a call for the main DC",
		"429 with Retry-After within "+strconv.Itoa(burstLimit)+" calls; the other DC still served", func() (string, bool) {
			dc := "CONF-" + strings.ToUpper(newID()[:8])
			u := r.t.Users[0]
			resp, err := r.sim.CreateConsent(ctx, sim.CreateConsentRequest{DCID: dc, Purpose: wire.PurposePFM,
				Permissions: []wire.Permission{wire.PermReadBalances}, IDType: u.IDType, IDNumber: u.IDNumber})
			if err != nil {
				return "consent for the burst DC: " + err.Error(), false
			}
			c := r.pn.dataCall(dataPath(resp.ConsentID, "acc-burst", "/balances", nil))
			var (
				mu       sync.Mutex
				sent     int
				limited  *apiResp
				firstErr error
			)
			bctx, cancel := context.WithCancel(ctx)
			defer cancel()
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for {
						mu.Lock()
						if limited != nil || firstErr != nil || sent >= burstLimit || bctx.Err() != nil {
							mu.Unlock()
							return
						}
						sent++
						mu.Unlock()
						cc := c
						cc.header = c.header.Clone()
						a, err := r.pn.do(bctx, cc)
						mu.Lock()
						switch {
						case err != nil && bctx.Err() == nil:
							firstErr = err
						case err == nil && a.Status == http.StatusTooManyRequests && limited == nil:
							limited = a
							cancel()
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if firstErr != nil {
				return fmt.Sprintf("after %d calls: %s", sent, oneLine(firstErr)), false
			}
			if limited == nil {
				return fmt.Sprintf("no 429 after %d calls", sent), false
			}
			r.observe("rate limited", limited)
			ra := limited.Header.Get("Retry-After")
			secs, err := strconv.Atoi(ra)
			got := fmt.Sprintf("429 after ≤ %d calls, Retry-After %q", sent, ra)
			if err != nil || secs <= 0 || !expectRefusal(limited, http.StatusTooManyRequests, "temporarily_unavailable") {
				return got + ", " + limited.describe(), false
			}
			a, err := r.dataDo(ctx, r.pn.dataCall(dataPath(m.ConsentID, m.Accounts[0], "/balances", nil)))
			if err != nil {
				return got + "; " + oneLine(err), false
			}
			return got + "; main DC " + a.describe(), a.Status == http.StatusOK
		})
}

// myt is Malaysia time (spec §3.0: dates are MYT).
var myt = time.FixedZone("MYT", 8*60*60)

// payloadIDs are the rows of payloads.
var payloadIDs = []string{"P-account", "P-balances", "P-transactions", "P-userinfo"}

// payloads checks what a data consumer receives, as a DC would and as PayNet's bilateral testing
// will: every decrypted account, balance and transaction page of a consent sharing every account
// the first user is offered (so every account type the DP serves), and its userinfo, against
// package wire's transcription of spec §5.4–5.7 and §3.1.3. Each row lists every deviation found
// (field path and rule, never the value).
func (r *runner) payloads(ctx context.Context) {
	m, err := r.approveAccounts(ctx, wire.AllPermissions, true)
	if err != nil {
		for _, id := range payloadIDs {
			r.prerequisite(id, "Payload check (spec §5.4–5.7, §3.1.3)", "a consent sharing every offered account", err)
		}
		return
	}
	sealed := func(suffix string, q url.Values, check func(plain []byte, acct string) []string) func() (string, bool) {
		return func() (string, bool) {
			var devs []string
			for i, acct := range m.Accounts {
				a, err := r.dataDo(ctx, r.pn.dataCall(dataPath(m.ConsentID, acct, suffix, q)))
				if err != nil {
					return oneLine(err), false
				}
				o, err := r.open(a)
				if err != nil {
					return fmt.Sprintf("account %d: %v", i+1, err), false
				}
				for _, d := range check(o.Plaintext, acct) {
					devs = append(devs, fmt.Sprintf("account %d: %s", i+1, d))
				}
			}
			if len(devs) > 0 {
				return fmt.Sprintf("%d deviation(s): %s", len(devs), strings.Join(devs, "; ")), false
			}
			return fmt.Sprintf("%d account(s), no deviation", len(m.Accounts)), true
		}
	}
	r.check("P-account", "Decrypted GET /v1/accounts/{account_id} payload of each consented account",
		"spec §5.4: required fields, enums, MYR amounts, credit numbers masked 6+4, no unknown member",
		sealed("", nil, func(p []byte, _ string) []string { return wire.CheckAccount(p) }))
	r.check("P-balances", "Decrypted GET …/balances payload of each consented account",
		"spec §5.5: current_balance {amount{amount, currency}, credit_debit_indicator}, credit_lines_included boolean",
		sealed("/balances", nil, func(p []byte, _ string) []string { return wire.CheckBalance(p) }))
	r.check("P-transactions", "Decrypted GET …/transactions first page of each consented account",
		"spec §5.6–5.7: required fields, MYT date-times, enums, amounts; meta.next_page_params",
		sealed("/transactions", url.Values{"page_size": {"50"}}, wire.CheckTransactionsPage))
	r.check("P-userinfo", "GET /v1/oauth/userinfo for consent A", "200 JSON; spec §3.1.3: sub, id_type, hashed_id_number, typed claims",
		func() (string, bool) {
			c := r.pn.dataCall("/v1/oauth/userinfo?" + url.Values{"consent_id": {m.ConsentID}}.Encode())
			c.header.Set("Accept", "application/json")
			a, err := r.dataDo(ctx, c)
			if err != nil {
				return oneLine(err), false
			}
			if a.Status != http.StatusOK || a.contentType() != "application/json" {
				return a.describe(), false
			}
			if devs := wire.CheckUserInfo(a.Body); len(devs) > 0 {
				return fmt.Sprintf("%d deviation(s): %s", len(devs), strings.Join(devs, "; ")), false
			}
			return "no deviation", true
		})
}
