package httpbank

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/ofpdp/ofpdp/connector"
)

// Handler serves a connector.Connector as docs/connector-openapi.yaml: the sandbox's mock core
// bank (the demo bank behind the contract, design §6) and the reference implementation that
// connector-test and the drift test check. Requests without the contract's headers are refused
// with 400 invalid_request, so a client that forgets them is caught in tests.
type Handler struct {
	bank        connector.Connector
	token       string
	mux         *http.ServeMux
	testInserts bool
}

// TestInserter books a transaction: the test-only insert operation of the contract.
type TestInserter interface {
	InsertTransaction(ctx context.Context, accountRef string, t connector.Transaction) error
}

// EnableTestInserts serves the test-only POST /v1/test/accounts/{accountRef}/transactions with
// ins and says so in the health answer (test_inserts), so that connector-test checks that a
// transactions walk is stable under concurrent inserts. Never for a bank's real data; call it
// before serving.
func (h *Handler) EnableTestInserts(ins TestInserter) {
	h.testInserts = true
	h.mux.HandleFunc("POST /v1/test/accounts/{ref}/transactions", func(w http.ResponseWriter, r *http.Request) {
		ref := r.PathValue("ref")
		var wt wireTransaction
		raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil || !refRE.MatchString(ref) || decodeStrict(raw, &wt) != nil {
			writeProblem(w, http.StatusBadRequest, CodeInvalidRequest, "a Transaction of the contract")
			return
		}
		t, err := transactionFromWire(0, &wt)
		if err != nil {
			writeProblem(w, http.StatusBadRequest, CodeInvalidRequest, "a Transaction of the contract")
			return
		}
		if err := ins.InsertTransaction(r.Context(), ref, t); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

var (
	refRE   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	traceRE = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)
	uuidRE  = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// NewHandler serves bank. A non-empty bearerToken is required on every request.
func NewHandler(bank connector.Connector, bearerToken string) *Handler {
	h := &Handler{bank: bank, token: bearerToken, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST /v1/customers/authenticate", h.authenticate)
	h.mux.HandleFunc("GET /v1/customers/{ref}", byRef(h, bank.Customer, customerPtrToWire))
	h.mux.HandleFunc("GET /v1/customers/{ref}/accounts", byRef(h, bank.Accounts, accountsToWire))
	h.mux.HandleFunc("GET /v1/accounts/{ref}", byRef(h, bank.Account, accountToWire))
	h.mux.HandleFunc("GET /v1/accounts/{ref}/balance", byRef(h, bank.Balance, balanceToWire))
	h.mux.HandleFunc("GET /v1/accounts/{ref}/transactions", h.transactions)
	if sf, ok := bank.(connector.SecondFactor); ok {
		h.mux.HandleFunc("POST /v1/customers/authenticate/challenge", h.startChallenge(sf))
		h.mux.HandleFunc("POST /v1/customers/authenticate/verify", h.verifyOTP(sf))
		h.mux.HandleFunc("GET /v1/customers/authenticate/challenge/{ref}", h.challengeStatus(sf))
	}
	h.mux.HandleFunc("GET /v1/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, wireHealth{Status: "ok", TestInserts: h.testInserts})
	})
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, CodeInvalidRequest, "no such operation")
	})
	return h
}

// ServeHTTP checks the headers of the contract, bounds the call by x-ofpdp-deadline-ms, and serves it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.token != "" && r.Header.Get("Authorization") != "Bearer "+h.token {
		writeProblem(w, http.StatusUnauthorized, CodeInvalidRequest, "bearer token missing or wrong")
		return
	}
	if !uuidRE.MatchString(r.Header.Get(HeaderInteractionID)) {
		writeProblem(w, http.StatusBadRequest, CodeInvalidRequest, HeaderInteractionID+" must be a UUID")
		return
	}
	if !traceRE.MatchString(r.Header.Get(HeaderTraceParent)) {
		writeProblem(w, http.StatusBadRequest, CodeInvalidRequest, HeaderTraceParent+" must be W3C Trace Context 00")
		return
	}
	ms, err := strconv.Atoi(r.Header.Get(HeaderDeadline))
	if err != nil || ms < 0 || ms > 60000 {
		writeProblem(w, http.StatusBadRequest, CodeInvalidRequest, HeaderDeadline+" must be 0..60000")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Duration(ms)*time.Millisecond)
	defer cancel()
	h.mux.ServeHTTP(w, r.WithContext(ctx))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = jsonv2.MarshalWrite(w, v)
}

func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{Code: code, Detail: detail})
}

// writeError maps a connector error onto the problem codes of the contract (the inverse of
// Client.mapError).
func writeError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, connector.ErrInvalidCredentials):
		writeProblem(w, http.StatusUnauthorized, CodeInvalidCredentials, "")
	case errors.Is(err, connector.ErrNotFound):
		writeProblem(w, http.StatusNotFound, CodeNotFound, "")
	case errors.Is(err, connector.ErrAccountBlocked):
		writeProblem(w, http.StatusForbidden, CodeAccountBlocked, "")
	case errors.Is(err, connector.ErrAccountClosed):
		writeProblem(w, http.StatusForbidden, CodeAccountClosed, "")
	case errors.Is(err, connector.ErrInvalidOTP):
		writeProblem(w, http.StatusUnauthorized, CodeInvalidOTP, "")
	case errors.Is(err, connector.ErrChallengeExpired):
		writeProblem(w, http.StatusGone, CodeChallengeExpired, "")
	default:
		writeProblem(w, http.StatusServiceUnavailable, CodeUnavailable, "")
	}
}

func (h *Handler) ref(w http.ResponseWriter, r *http.Request) (string, bool) {
	ref := r.PathValue("ref")
	if !refRE.MatchString(ref) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "")
		return "", false
	}
	return ref, true
}

func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) {
	var c wireCredentials
	raw, err := io.ReadAll(io.LimitReader(r.Body, 4096))
	if err != nil || decodeStrict(raw, &c) != nil || c.Username == "" || c.Password == "" ||
		len(c.Username) > 128 || len(c.Password) > 256 {
		writeProblem(w, http.StatusBadRequest, CodeInvalidRequest, "body must be {username, password}")
		return
	}
	cu, err := h.bank.Authenticate(r.Context(), c.Username, c.Password)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, customerToWire(cu))
}

// byRef serves GET …/{ref}: what get answers for the reference, in its wire shape, or its error
// as a problem.
func byRef[T, W any](h *Handler, get func(context.Context, string) (T, error), toWire func(*T) W) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ref, ok := h.ref(w, r)
		if !ok {
			return
		}
		v, err := get(r.Context(), ref)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, toWire(&v))
	}
}

func accountsToWire(as *[]connector.Account) wireAccountList {
	list := make([]wireAccount, len(*as))
	for i := range *as {
		list[i] = accountToWire(&(*as)[i])
	}
	return wireAccountList{Accounts: &list}
}

func customerPtrToWire(c *connector.Customer) wireCustomer { return customerToWire(*c) }

func (h *Handler) transactions(w http.ResponseWriter, r *http.Request) {
	ref, ok := h.ref(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	tq := connector.TransactionQuery{AccountRef: ref}
	var err error
	bad := func(why string) { writeProblem(w, http.StatusBadRequest, CodeInvalidRequest, why) }
	if tq.From, err = time.Parse(time.RFC3339Nano, q.Get("from")); err != nil {
		bad("from must be an RFC 3339 date-time")
		return
	}
	if tq.To, err = time.Parse(time.RFC3339Nano, q.Get("to")); err != nil {
		bad("to must be an RFC 3339 date-time")
		return
	}
	if tq.Limit, err = strconv.Atoi(q.Get("limit")); err != nil || tq.Limit < 1 || tq.Limit > 1000 {
		bad("limit must be 1..1000")
		return
	}
	if q.Has("cursor") {
		if tq.Cursor = q.Get("cursor"); !cursorRE.MatchString(tq.Cursor) {
			bad("cursor must be 1..512 printable ASCII characters")
			return
		}
	}
	page, err := h.bank.Transactions(r.Context(), tq)
	if err != nil {
		writeError(w, err)
		return
	}
	list := make([]wireTransaction, len(page.Transactions))
	for i := range page.Transactions {
		list[i] = transactionToWire(&page.Transactions[i])
	}
	more := page.More
	writeJSON(w, http.StatusOK, wireTransactionPage{Transactions: &list, More: &more, NextCursor: page.NextCursor})
}

// readBody decodes a small JSON request body strictly; ok is false when it answered 400.
func readBody(w http.ResponseWriter, r *http.Request, v any, valid func() bool, shape string) bool {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 4096))
	if err != nil || decodeStrict(raw, v) != nil || !valid() {
		writeProblem(w, http.StatusBadRequest, CodeInvalidRequest, "body must be "+shape)
		return false
	}
	return true
}

func (h *Handler) startChallenge(sf connector.SecondFactor) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req wireChallengeRequest
		if !readBody(w, r, &req, func() bool {
			return refRE.MatchString(req.CustomerRef) && connector.Method(req.Method).Valid() && len(req.ConsentID) <= 36 && len(req.DCName) <= 140
		}, "{customer_ref, method}") {
			return
		}
		ch, err := sf.StartChallenge(r.Context(), connector.ChallengeRequest{
			CustomerRef: req.CustomerRef, Method: connector.Method(req.Method), ConsentID: req.ConsentID, DCName: req.DCName,
		})
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, wireChallenge{ChallengeID: ch.ID, Method: string(ch.Method), ExpiresAt: ch.ExpiresAt, Destination: ch.Destination})
	}
}

func (h *Handler) verifyOTP(sf connector.SecondFactor) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req wireOTPCheck
		if !readBody(w, r, &req, func() bool {
			return refRE.MatchString(req.ChallengeID) && req.OTP != "" && len(req.OTP) <= 12
		}, "{challenge_id, otp}") {
			return
		}
		if err := sf.VerifyOTP(r.Context(), req.ChallengeID, req.OTP); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (h *Handler) challengeStatus(sf connector.SecondFactor) http.HandlerFunc {
	return byRef(h, sf.ChallengeStatus, func(st *connector.ChallengeStatus) wireChallengeState {
		return wireChallengeState{Status: string(*st)}
	})
}
