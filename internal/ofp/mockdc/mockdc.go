package mockdc

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ofpdp/ofpdp/internal/ofp/sim"
	"github.com/ofpdp/ofpdp/internal/ofp/wire"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// SimClient is what the mock DC needs from the PayNet simulator's JSON API; *sim.Client has it.
type SimClient interface {
	CreateConsent(ctx context.Context, req sim.CreateConsentRequest) (*sim.CreateConsentResponse, error)
	Consent(ctx context.Context, consentID string) (*sim.ConsentView, error)
	Balances(ctx context.Context, consentID, accountID string) (*sim.DataResponse, error)
	Transactions(ctx context.Context, consentID, accountID string, q sim.TransactionsQuery) (*sim.DataResponse, error)
}

// Bank is a data provider the app offers to link.
type Bank struct {
	ID   string // stable, URL-safe: the element id is "bank-<ID>"
	Name string
}

// Defaults of Options.
const (
	DefaultAppName      = "Kira"
	DefaultBankID       = "sandbox"
	DefaultBankName     = "Demo Bank Berhad"
	DefaultValidityDays = 180
	// TransactionsPageSize is how many recent transactions are shown per account.
	TransactionsPageSize = 10
)

// Options configure the mock DC.
type Options struct {
	// Sim is the simulator client (required).
	Sim SimClient
	// PublicURL is the app's own base URL as the browser reaches it (required); PayNet sends the
	// customer back to PublicURL + "/callback".
	PublicURL string
	// DCID is the dc_id put on consents ("" = the simulator's default DC).
	DCID string
	// AppName is the product name shown (default "Kira").
	AppName string
	// Banks are the banks offered (default one: the sandbox bank).
	Banks []Bank
	// Customers are the bank's demo customers the linking page lets the customer say they are,
	// so that the consent names them (id_type and hashed_id_number, spec §5.1, design.md §3.11).
	// The first is preselected; "another ID" takes a typed ID instead. Empty: the ID is typed.
	Customers []Customer
	// ValidityDays is the consent duration asked for (default 180).
	ValidityDays int
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Customer is a demo customer the mock DC can bind a consent to. The ID number never reaches
// the page: the form names the customer by Username and the consent carries only its hash.
type Customer struct {
	Username, Name string
	IDType         wire.IDType
	IDNumber       string
}

// otherCustomer is the form value for "another ID", typed into id_type and id_number.
const otherCustomer = "other"

// Handler is the mock DC web app.
type Handler struct {
	opt   Options
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// Page templates (each is rendered inside layout.html).
var pageNames = []string{"home", "link", "review", "result", "error"}

// New builds the app.
func New(o Options) (*Handler, error) {
	if o.Sim == nil {
		return nil, errors.New("mockdc: Options.Sim is required")
	}
	u, err := url.Parse(o.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("mockdc: PublicURL %q is not an absolute http(s) URL", o.PublicURL)
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.AppName == "" {
		o.AppName = DefaultAppName
	}
	if len(o.Banks) == 0 {
		o.Banks = []Bank{{ID: DefaultBankID, Name: DefaultBankName}}
	}
	for _, b := range o.Banks {
		if b.ID == "" || url.PathEscape(b.ID) != b.ID || b.Name == "" {
			return nil, fmt.Errorf("mockdc: bank %q needs a URL-safe id and a name", b.ID)
		}
	}
	for _, c := range o.Customers {
		if c.Username == "" || c.Username == otherCustomer || c.Name == "" || !c.IDType.Valid() || wire.NormalizeIDNumber(c.IDNumber) == "" {
			return nil, fmt.Errorf("mockdc: customer %q needs a username, a name, id_type nric or passport and an ID number", c.Username)
		}
	}
	if o.ValidityDays <= 0 {
		o.ValidityDays = DefaultValidityDays
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{opt: o, pages: make(map[string]*template.Template)}
	for _, name := range pageNames {
		t, err := template.New("layout.html").ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("mockdc: template %s: %w", name, err)
		}
		h.pages[name] = t
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.home)
	mux.HandleFunc("GET /link", h.link)
	mux.HandleFunc("GET /review", h.review)
	mux.Handle("POST /connect", http.NewCrossOriginProtection().Handler(http.HandlerFunc(h.connect)))
	mux.HandleFunc("GET /callback", h.callback)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		h.renderError(w, http.StatusNotFound, "Page not found", "There is nothing at this address.")
	})
	h.mux = mux
	return h, nil
}

// CallbackURL is where PayNet sends the customer back (dc_redirect_uri of the consents it creates).
func (h *Handler) CallbackURL() string { return h.opt.PublicURL + "/callback" }

// ServeHTTP serves the app with security headers on every page.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' http: https:; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	h.mux.ServeHTTP(w, r)
}

// Serve runs the app on ln until ctx ends, then shuts down gracefully.
func (h *Handler) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: slog.NewLogLogger(h.opt.Logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("mockdc: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("mockdc: shutdown: %w", err)
	}
	return nil
}

func (h *Handler) customer(username string) (Customer, bool) {
	for _, c := range h.opt.Customers {
		if c.Username == username {
			return c, true
		}
	}
	return Customer{}, false
}

func (h *Handler) bank(id string) (Bank, bool) {
	for _, b := range h.opt.Banks {
		if b.ID == id {
			return b, true
		}
	}
	return Bank{}, false
}

// page is what every template receives.
type page struct {
	AppName string
	Title   string
	Data    any
}

func (h *Handler) render(w http.ResponseWriter, status int, name, title string, data any) {
	var b strings.Builder
	if err := h.pages[name].Execute(&b, page{AppName: h.opt.AppName, Title: title, Data: data}); err != nil {
		h.opt.Logger.Error("mockdc: rendering", "page", name, "error", err)
		http.Error(w, "page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

type errorData struct{ Heading, Message string }

func (h *Handler) renderError(w http.ResponseWriter, status int, heading, message string) {
	h.render(w, status, "error", heading, errorData{Heading: heading, Message: message})
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "home", "Your money in one place", nil)
}

func (h *Handler) link(w http.ResponseWriter, r *http.Request) {
	h.render(w, http.StatusOK, "link", "Choose your bank", h.opt.Banks)
}

// permissionText says in plain words what each permission shares (spec §5.1, §7.5 Consent-First).
var permissionText = map[wire.Permission]string{
	wire.PermReadAccounts:     "Your account details: name, type and number",
	wire.PermReadBalances:     "Your account balances",
	wire.PermReadTransactions: "Your transactions, up to 12 months back",
}

// requested is what the app asks for: PFM needs all three permissions.
var requested = []wire.Permission{wire.PermReadAccounts, wire.PermReadBalances, wire.PermReadTransactions}

type reviewData struct {
	Bank        Bank
	Customers   []Customer
	Purpose     string
	Permissions []string
	Days        int
	Until       string
}

func (h *Handler) review(w http.ResponseWriter, r *http.Request) {
	b, ok := h.bank(r.URL.Query().Get("bank"))
	if !ok {
		h.renderError(w, http.StatusNotFound, "Bank not found", "Choose a bank from the list.")
		return
	}
	d := reviewData{
		Bank: b, Customers: h.opt.Customers, Purpose: "Personal finance management: see all your accounts and spending in one place",
		Days: h.opt.ValidityDays, Until: sim.ExpirationFor(h.opt.Now(), h.opt.ValidityDays).Format("2 January 2006"),
	}
	for _, p := range requested {
		d.Permissions = append(d.Permissions, permissionText[p])
	}
	h.render(w, http.StatusOK, "review", "Review what you share", d)
}

// connect creates the consent at PayNet and sends the customer to their bank (spec §2.2 steps 1–7).
func (h *Handler) connect(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.renderError(w, http.StatusBadRequest, "Something went wrong", "The form could not be read.")
		return
	}
	if _, ok := h.bank(r.PostForm.Get("bank")); !ok {
		h.renderError(w, http.StatusBadRequest, "Bank not found", "Choose a bank from the list.")
		return
	}
	req := sim.CreateConsentRequest{
		DCID: h.opt.DCID, Purpose: wire.PurposePFM, Permissions: requested,
		ValidityDays: h.opt.ValidityDays, DCRedirectURI: h.CallbackURL(),
	}
	who := r.PostForm.Get("customer")
	switch {
	case who != "" && who != otherCustomer:
		c, ok := h.customer(who)
		if !ok {
			h.renderError(w, http.StatusBadRequest, "Check who you are", "Choose yourself from the list.")
			return
		}
		req.IDType, req.IDNumber = c.IDType, c.IDNumber
	case who == otherCustomer || len(h.opt.Customers) == 0:
		idNumber := strings.TrimSpace(r.PostForm.Get("id_number"))
		if idNumber == "" && len(h.opt.Customers) > 0 {
			h.renderError(w, http.StatusBadRequest, "Check your ID", "Type your ID number.")
			return
		}
		if idNumber != "" {
			req.IDType, req.IDNumber = wire.IDType(r.PostForm.Get("id_type")), idNumber
			if !req.IDType.Valid() {
				h.renderError(w, http.StatusBadRequest, "Check your ID", "Choose MyKad (NRIC) or passport.")
				return
			}
		}
	default:
		h.renderError(w, http.StatusBadRequest, "Check who you are", "Choose yourself from the list.")
		return
	}
	resp, err := h.opt.Sim.CreateConsent(r.Context(), req)
	if err != nil {
		h.opt.Logger.Warn("mockdc: consent not created", "error", err)
		h.renderError(w, http.StatusBadGateway, "We could not reach your bank",
			"Open Finance is not available right now. Please try again in a moment.")
		return
	}
	http.Redirect(w, r, resp.AuthorizeURL, http.StatusSeeOther)
}

// accountView is one linked account as the result page shows it.
type accountView struct {
	ID           string
	Name         string
	MaskedNumber string
	Balance      string // "MYR 1,234.56" or "" when unavailable
	BalanceNote  string // why the balance is missing, or "owed" for a debit balance
	Transactions []transactionView
	Problem      string
}

// transactionView is one line of the recent transactions list.
type transactionView struct {
	Date, Description, Amount string
	Credit                    bool
}

type resultData struct {
	Linked   bool
	Bank     string
	Reason   string
	Accounts []accountView
}

// callback is where PayNet sends the customer back (design.md §3.10): on success it shows the
// linked accounts with balances and recent transactions fetched through PayNet's RS; otherwise
// "Account not linked" with the reason.
func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	id := q.Get("consent_id")
	bank := h.opt.Banks[0].Name
	notLinked := func(reason string) {
		h.render(w, http.StatusOK, "result", "Account not linked", resultData{Bank: bank, Reason: reason})
	}
	if id == "" {
		notLinked("Your bank did not say which request this was.")
		return
	}
	if e := q.Get("error"); e != "" {
		notLinked(reasonText(e, q.Get("error_description")))
		return
	}
	view, err := h.opt.Sim.Consent(r.Context(), id)
	if err != nil {
		h.opt.Logger.Warn("mockdc: consent lookup failed", "consent_id", id, "error", err)
		notLinked("We could not confirm the link with Open Finance.")
		return
	}
	accts := view.AuthorizedAccounts()
	if q.Get("status") != sim.OutcomeAuthorized || view.Status != wire.StatusAuthorized || len(accts) == 0 {
		notLinked("Your bank did not confirm the link (status: " + string(view.Status) + ").")
		return
	}
	d := resultData{Linked: true, Bank: bank}
	for _, a := range accts {
		d.Accounts = append(d.Accounts, h.account(r.Context(), id, a))
	}
	h.render(w, http.StatusOK, "result", "Accounts linked", d)
}

// reasonText turns the error PayNet forwarded into a plain sentence.
func reasonText(code, description string) string {
	var s string
	switch code {
	case "access_denied":
		s = "You cancelled, or your bank could not confirm it was you."
	case "server_error", "temporarily_unavailable":
		s = "Something went wrong at your bank or at Open Finance."
	default:
		s = "Your bank did not link the account."
	}
	if description != "" {
		s += " (" + description + ")"
	}
	return s
}

// account fetches one account's balance and recent transactions through the simulator.
func (h *Handler) account(ctx context.Context, consentID string, a sim.Account) accountView {
	out := accountView{ID: a.AccountID, Name: a.AccountName, MaskedNumber: maskNumber(a.AccountNumber)}
	if resp, err := h.opt.Sim.Balances(ctx, consentID, a.AccountID); err != nil {
		out.BalanceNote = "Balance unavailable."
	} else if out.Balance, out.BalanceNote, err = parseBalance(resp); err != nil {
		out.BalanceNote = "Balance unavailable: " + err.Error()
	}
	resp, err := h.opt.Sim.Transactions(ctx, consentID, a.AccountID, sim.TransactionsQuery{PageSize: TransactionsPageSize})
	if err != nil {
		out.Problem = "Transactions unavailable."
		return out
	}
	if out.Transactions, err = parseTransactions(resp); err != nil {
		out.Problem = "Transactions unavailable: " + err.Error()
	}
	return out
}

// dataError explains a DataResponse that carries no data.
func dataError(resp *sim.DataResponse) error {
	var e struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	if json.Unmarshal(resp.Error, &e) == nil && e.Error != "" {
		return errors.New(e.Error)
	}
	return fmt.Errorf("HTTP %d", resp.HTTPStatus)
}

type amount struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

type balanceAmount struct {
	Amount               amount `json:"amount"`
	CreditDebitIndicator string `json:"credit_debit_indicator"`
}

// parseBalance reads the balances plaintext (spec §5.5): {"data": {current_balance, …}}.
func parseBalance(resp *sim.DataResponse) (balance, note string, err error) {
	if resp.HTTPStatus != http.StatusOK || len(resp.Data) == 0 || string(resp.Data) == "null" {
		return "", "", dataError(resp)
	}
	var p struct {
		Data struct {
			Current   *balanceAmount `json:"current_balance"`
			Available *balanceAmount `json:"available_balance"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.Data, &p); err != nil || p.Data.Current == nil {
		return "", "", errors.New("unexpected balance format")
	}
	c := p.Data.Current
	balance = formatMoney(c.Amount)
	if c.CreditDebitIndicator == "debit" {
		note = "owed"
	}
	return balance, note, nil
}

// parseTransactions reads the transactions plaintext (spec §5.6–5.7): {"data": [...], "meta": {...}}.
func parseTransactions(resp *sim.DataResponse) ([]transactionView, error) {
	if resp.HTTPStatus != http.StatusOK || len(resp.Data) == 0 || string(resp.Data) == "null" {
		return nil, dataError(resp)
	}
	var p struct {
		Data []struct {
			Date         string `json:"transaction_date"`
			Description  string `json:"description"`
			MerchantName string `json:"merchant_name"`
			Indicator    string `json:"credit_debit_indicator"`
			Amount       amount `json:"amount"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.Data, &p); err != nil {
		return nil, errors.New("unexpected transactions format")
	}
	out := make([]transactionView, 0, len(p.Data))
	for _, t := range p.Data {
		desc := t.Description
		if t.MerchantName != "" {
			desc = t.MerchantName
		}
		date := t.Date
		if ts, err := time.Parse(time.RFC3339, t.Date); err == nil {
			date = ts.Format("2 Jan 2006")
		}
		credit := t.Indicator == "credit"
		sign := "−"
		if credit {
			sign = "+"
		}
		out = append(out, transactionView{Date: date, Description: desc, Amount: sign + formatMoney(t.Amount), Credit: credit})
	}
	return out, nil
}

// formatMoney renders "1234567.80" MYR as "MYR 1,234,567.80" without floating point.
func formatMoney(a amount) string {
	whole, frac, hasFrac := strings.Cut(strings.TrimPrefix(a.Amount, "-"), ".")
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	s := b.String()
	if hasFrac {
		s += "." + frac
	}
	if strings.HasPrefix(a.Amount, "-") {
		s = "-" + s
	}
	if a.Currency != "" {
		s = a.Currency + " " + s
	}
	return s
}

// maskNumber shows only the last four characters of an account number ("•••• 7890").
func maskNumber(n string) string {
	if len(n) <= 4 {
		return n
	}
	return "•••• " + n[len(n)-4:]
}
