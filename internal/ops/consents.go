package ops

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ofpdp/ofpdp/internal/consent"
	"github.com/ofpdp/ofpdp/internal/store"
)

// Consent management for bank staff (spec paynet-dp.md §7.3, §7.4): search, read, revoke and
// export. Identity appears only hashed, account numbers masked, and every request is audited with
// the operator's name.

// maxExportConsents bounds one customer's export.
const maxExportConsents = 5000

// maxRevokeReason bounds an operator's revocation reason.
const maxRevokeReason = 500

// ReasonOperatorRevoked is the reason code of a revocation by an operator.
const ReasonOperatorRevoked = "operator_revoked"

// adminSummary is a consent in search results.
type adminSummary struct {
	ConsentID   string    `json:"consent_id"`
	DCID        string    `json:"dc_id"`
	Status      string    `json:"status"`
	Purpose     string    `json:"consent_purpose"`
	Expiration  time.Time `json:"expiration_datetime"`
	CustomerRef string    `json:"customer_ref,omitempty"`
	StoredAt    time.Time `json:"stored_at"`
	ModifiedAt  time.Time `json:"modified_at"`
}

func summary(c store.StoredConsent) adminSummary {
	out := adminSummary{ConsentID: c.Consent.ConsentID, DCID: c.Consent.DCID, Status: string(c.Consent.Status),
		Purpose: string(c.Consent.Purpose), Expiration: c.Consent.ExpirationDatetime, StoredAt: c.StoredAt, ModifiedAt: c.ModifiedAt}
	if a := c.Authorization; a != nil {
		out.CustomerRef = a.CustomerRef
	}
	return out
}

// search answers GET /admin/v1/consents?customer_ref=&dc_id=&status=a,b&created_from=&created_to=
// &updated_from=&updated_to=&cursor=&limit= (times RFC 3339).
func (h *Handler) search(w http.ResponseWriter, r *http.Request, _ Operator) {
	q := r.URL.Query()
	cq := store.ConsentQuery{CustomerRef: q.Get("customer_ref"), DCID: q.Get("dc_id"), Cursor: q.Get("cursor")}
	bad := func(field string) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": field + " is not valid"})
	}
	if v := q.Get("status"); v != "" {
		for st := range strings.SplitSeq(v, ",") {
			if !consent.Status(st).Valid() {
				bad("status")
				return
			}
			cq.Statuses = append(cq.Statuses, consent.Status(st))
		}
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"created_from", &cq.CreatedFrom}, {"created_to", &cq.CreatedTo}, {"updated_from", &cq.UpdatedFrom}, {"updated_to", &cq.UpdatedTo}} {
		if v := q.Get(f.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad(f.name)
				return
			}
			*f.dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxSearchLimit {
			bad("limit")
			return
		}
		cq.Limit = n
	}
	page, err := h.o.Admin.SearchConsents(r.Context(), cq)
	if errors.Is(err, store.ErrInvalidArgument) {
		bad("cursor")
		return
	}
	if h.storeErr(w, err) {
		return
	}
	out := make([]adminSummary, 0, len(page.Consents))
	for _, c := range page.Consents {
		out = append(out, summary(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"consents": out, "next_cursor": page.Next})
}

// revoke answers POST /admin/v1/consents/{consent_id}/revoke {"reason": "..."}: the consent is
// revoked on this DP at once (data stops) and queued for PayNet (spec §3.2.3), audited with the
// operator's name. The reason is required and must not carry personal data.
func (h *Handler) revoke(w http.ResponseWriter, r *http.Request, op Operator) {
	id := r.PathValue("consent_id")
	var body struct {
		Reason string `json:"reason"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || strings.TrimSpace(body.Reason) == "" ||
		len(body.Reason) > maxRevokeReason || !utf8.ValidString(body.Reason) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request",
			"error_description": fmt.Sprintf("body must be {\"reason\": \"…\"} with a reason of 1–%d bytes", maxRevokeReason)})
		return
	}
	now := h.o.Now()
	before, err := h.o.Admin.GetConsent(r.Context(), id)
	if h.storeErr(w, err) {
		return
	}
	rec, err := h.o.Admin.RevokeConsent(r.Context(), id, store.LocalChange{Actor: op.Name, Channel: store.ChannelAdmin,
		ReasonCode: ReasonOperatorRevoked, Reason: strings.TrimSpace(body.Reason), At: now})
	outcome := "revoked"
	switch {
	case errors.Is(err, store.ErrNotRevocable):
		outcome = "not_revocable"
	case err != nil:
		h.storeErr(w, err)
		return
	case before.Consent.Status == consent.StatusRevoked:
		outcome = "already_revoked"
	}
	if aerr := h.o.Admin.Audit(r.Context(), store.AuditEntry{At: now, Actor: op.Name, Action: AuditActionRevoke,
		ConsentID: id, Outcome: outcome}); aerr != nil {
		h.o.Logger.Error("admin api: audit of a revocation failed", "consent_id", id, "cause", aerr.Error())
	}
	if outcome == "not_revocable" {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "not_revocable",
			"error_description": "the consent is " + string(before.Consent.Status) + "; only authorized or suspended consents are revoked"})
		return
	}
	h.o.Logger.Info("admin api: consent revoked", "consent_id", id, "operator", op.Name, "outcome", outcome)
	writeJSON(w, http.StatusOK, map[string]any{"consent_id": id, "status": string(rec.Consent.Status), "outcome": outcome})
}

// exportRecord is one line of a customer's consent record (grant, change, revocation): who,
// when, through which channel.
type exportRecord struct {
	ConsentID string    `json:"consent_id"`
	DCID      string    `json:"dc_id"`
	At        time.Time `json:"at"`
	Kind      string    `json:"kind"` // paynet_event, decision, local_change
	Status    string    `json:"status,omitempty"`
	Actor     string    `json:"actor"`
	Channel   string    `json:"channel"`
	Detail    string    `json:"detail,omitempty"`
}

// export answers GET /admin/v1/customers/{customer_ref}/consents/export?format=json|csv: every
// consent of the customer with its complete history, for complaints and the regulator.
func (h *Handler) export(w http.ResponseWriter, r *http.Request, _ Operator) {
	ref := r.PathValue("customer_ref")
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format != "json" && format != "csv" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "format is json or csv"})
		return
	}
	var consents []store.StoredConsent
	q := store.ConsentQuery{CustomerRef: ref, Limit: store.MaxSearchLimit}
	for {
		page, err := h.o.Admin.SearchConsents(r.Context(), q)
		if h.storeErr(w, err) {
			return
		}
		consents = append(consents, page.Consents...)
		if page.Next == "" || len(consents) >= maxExportConsents {
			break
		}
		q.Cursor = page.Next
	}
	var recs []exportRecord
	for _, c := range consents {
		evs, err := h.o.Admin.ConsentEvents(r.Context(), c.Consent.ConsentID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			h.storeErr(w, err)
			return
		}
		recs = append(recs, history(c.ConsentRecord, evs)...)
	}
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="consents.csv"`)
		w.WriteHeader(http.StatusOK)
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"consent_id", "dc_id", "at", "kind", "status", "actor", "channel", "detail"})
		for _, e := range recs {
			_ = cw.Write([]string{e.ConsentID, e.DCID, e.At.UTC().Format(time.RFC3339Nano), e.Kind, e.Status, e.Actor, e.Channel, csvSafe(e.Detail)})
		}
		cw.Flush()
		return
	}
	out := make([]adminSummary, 0, len(consents))
	for _, c := range consents {
		out = append(out, summary(c))
	}
	if recs == nil {
		recs = []exportRecord{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"customer_ref": ref, "consents": out, "records": recs})
}

// csvSafe keeps a spreadsheet from reading a free text as a formula (OWASP CSV injection).
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// history is a consent's record in time order: PayNet's events, the customer's decision and
// local changes (revocation, expiry).
func history(rec *store.ConsentRecord, evs []store.StoredEvent) []exportRecord {
	c := rec.Consent
	var out []exportRecord
	decided := false
	for _, e := range evs {
		if a := rec.Authorization; a != nil && !decided && e.ReceivedAt.After(a.DecidedAt) {
			out = append(out, decision(c, a))
			decided = true
		}
		if e.Action == store.ActionLocal {
			to, _, ch, err := store.LocalChangeOf(e)
			if err == nil {
				out = append(out, exportRecord{ConsentID: c.ConsentID, DCID: c.DCID, At: ch.At, Kind: "local_change",
					Status: string(to), Actor: ch.Actor, Channel: ch.Channel, Detail: strings.TrimSpace(ch.ReasonCode + " " + ch.Reason)})
			}
			continue
		}
		out = append(out, exportRecord{ConsentID: c.ConsentID, DCID: c.DCID, At: e.ReceivedAt, Kind: "paynet_event",
			Status: eventStatus(e.Raw), Actor: "paynet", Channel: "api", Detail: string(e.Type) + " " + string(e.Action)})
	}
	if a := rec.Authorization; a != nil && !decided {
		out = append(out, decision(c, a))
	}
	return out
}

func decision(c consent.Consent, a *store.Authorization) exportRecord {
	r := exportRecord{ConsentID: c.ConsentID, DCID: c.DCID, At: a.DecidedAt, Kind: "decision", Status: string(a.Status),
		Actor: "customer", Channel: "web", Detail: a.Reason}
	if ch := a.Channel; ch != nil {
		r.Channel = ch.String()
	}
	return r
}

// eventStatus reads data.status of a stored PayNet event ("" when it has none).
func eventStatus(raw []byte) string {
	var e struct {
		Data struct {
			Status string `json:"status"`
		} `json:"data"`
	}
	_ = json.Unmarshal(raw, &e)
	return e.Data.Status
}

// maskNumber keeps the last four characters of an account number.
func maskNumber(n string) string {
	if len(n) <= 4 {
		return strings.Repeat("*", len(n))
	}
	return strings.Repeat("*", len(n)-4) + n[len(n)-4:]
}
