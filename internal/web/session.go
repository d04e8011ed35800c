package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/ofpdp/ofpdp/internal/journey"
	"github.com/ofpdp/ofpdp/internal/store"
)

// Cookie names: the __Host- prefix pins the cookie to this host, Secure and Path=/ (RFC 6265bis
// §4.1.3.2). The sandbox over plain HTTP cannot use it.
const (
	cookieName         = "__Host-ofpdp_session"
	insecureCookieName = "ofpdp_session"
)

// sess is a loaded session: the stored row, its decoded journey and the cookie id's hash.
type sess struct {
	row store.Session
	j   journey.State
}

var errNoSession = errors.New("web: no journey session")

func (h *Handler) cookieName() string {
	if h.o.InsecureHTTP {
		return insecureCookieName
	}
	return cookieName
}

// setCookie sends the session cookie. It has no Max-Age: the server decides expiry, and an
// expired session must still reach the server so the browser can be sent back with an error (U5).
func (h *Handler) setCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(), Value: id, Path: "/",
		Secure: !h.o.InsecureHTTP, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

func (h *Handler) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: h.cookieName(), Value: "", Path: "/", MaxAge: -1,
		Secure: !h.o.InsecureHTTP, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// randomToken returns 32 bytes (256 bits) from the injected source, base64url without padding.
func (h *Handler) randomToken() (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(h.o.Rand, b[:]); err != nil {
		return "", fmt.Errorf("web: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// hashID is what the store keeps for a session id: SHA-256, hex.
func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// newSession creates and stores a session for j and returns its cookie value.
func (h *Handler) newSession(ctx context.Context, j journey.State, created time.Time) (string, *sess, error) {
	id, err := h.randomToken()
	if err != nil {
		return "", nil, err
	}
	data, err := json.Marshal(j)
	if err != nil {
		return "", nil, err
	}
	now := h.o.Now()
	row := store.Session{
		IDHash: hashID(id), ConsentID: j.ConsentID, Data: data,
		CreatedAt: created, LastSeen: now, IdleExpiry: now.Add(h.o.SessionIdle), AbsoluteExpiry: j.Deadline,
	}
	if err := h.o.Store.CreateSession(ctx, row); err != nil {
		return "", nil, fmt.Errorf("web: create session: %w", err)
	}
	return id, &sess{row: row, j: j}, nil
}

// loadSession reads the session named by the request's cookie, expired or not.
func (h *Handler) loadSession(r *http.Request) (*sess, error) {
	c, err := r.Cookie(h.cookieName())
	if err != nil || c.Value == "" || len(c.Value) > 128 {
		return nil, errNoSession
	}
	return h.loadByHash(r.Context(), hashID(c.Value))
}

func (h *Handler) loadByHash(ctx context.Context, idHash string) (*sess, error) {
	row, err := h.o.Store.GetSession(ctx, idHash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("web: get session: %w", err)
	}
	s := &sess{row: *row}
	if err := json.Unmarshal(row.Data, &s.j); err != nil || s.j.ConsentID == "" || s.j.ConsentID != row.ConsentID {
		return nil, errNoSession
	}
	return s, nil
}

// expired reports whether the session's idle or absolute limit has passed.
func (s *sess) expired(now time.Time) bool {
	return !now.Before(s.row.IdleExpiry) || !now.Before(s.row.AbsoluteExpiry)
}

// save writes the journey back (compare-and-swap on the version) and refreshes the idle timer.
func (h *Handler) save(ctx context.Context, s *sess) error {
	data, err := json.Marshal(s.j)
	if err != nil {
		return err
	}
	row := s.row
	now := h.o.Now()
	row.Data, row.LastSeen, row.IdleExpiry = data, now, now.Add(h.o.SessionIdle)
	v, err := h.o.Store.UpdateSession(ctx, row)
	if err != nil {
		return fmt.Errorf("web: update session: %w", err)
	}
	row.Version = v
	s.row = row
	return nil
}

// touch refreshes the idle timer on a page view. A concurrent write wins: its LastSeen is as new.
func (h *Handler) touch(ctx context.Context, s *sess) {
	if err := h.save(ctx, s); err != nil && !errors.Is(err, store.ErrConflict) {
		h.o.Logger.WarnContext(ctx, "web: session touch failed", "consent_id", s.j.ConsentID, "error", err)
	}
}

// rotate moves the journey to a fresh session id with a new CSRF token (on login, against
// session fixation) and sets the new cookie. The old row is kept, marked Superseded, so that a
// double-clicked login — whose second request still carries the old cookie — can log in again
// instead of landing on "session ended"; a superseded session cannot decide or cancel.
func (h *Handler) rotate(ctx context.Context, w http.ResponseWriter, old *sess, next journey.State) (*sess, error) {
	csrf, err := h.randomToken()
	if err != nil {
		return nil, err
	}
	next.CSRF = csrf
	next.Superseded = false
	id, ns, err := h.newSession(ctx, next, old.row.CreatedAt)
	if err != nil {
		return nil, err
	}
	old.j.Superseded, old.j.LoginStarted = true, time.Time{}
	if err := h.save(ctx, old); err != nil {
		// The old id must not stay usable for anything but login: remove it instead.
		if derr := h.o.Store.DeleteSession(ctx, old.row.IDHash); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			h.o.Logger.WarnContext(ctx, "web: retiring the pre-login session failed", "consent_id", next.ConsentID, "error", derr)
		}
	}
	h.setCookie(w, id)
	return ns, nil
}

// checkCSRF compares the form's csrf field with the session's token in constant time (U10).
func checkCSRF(r *http.Request, s *sess) bool {
	got := r.PostFormValue("csrf")
	return got != "" && s.j.CSRF != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.j.CSRF)) == 1
}

// channel is how the decision of this journey is taken (spec §7.4 record-keeping): the entry
// surface, on the device that opened the link (the journey is one browser session), signed in
// with the connector's password and the second factor the journey needed ("none" without one).
func channelOf(j *journey.State) *store.DecisionChannel {
	surface := j.Entry
	if surface == "" {
		surface = store.ChannelWeb
	}
	factor := "none"
	if j.Factor != "" {
		factor = string(j.Factor)
	}
	return &store.DecisionChannel{Surface: surface, SameDevice: true, AuthMode: "password", Factor: factor}
}
