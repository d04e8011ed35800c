package web

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// clientAddr is the address the request came from, for the rate limits and sign-in counters
// (docs/security.md "Customer listener limits"). The connection's peer is the client unless it
// is one of Options.TrustedProxies; then the right-most X-Forwarded-For entry that is not a
// trusted proxy is: each trusted hop appended the address it saw, and entries left of the first
// untrusted one could have been written by the client itself.
func (h *Handler) clientAddr(r *http.Request) string {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() || !h.trusted(peer) {
		return addrString(peer, r.RemoteAddr)
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseAddr(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			break // a malformed entry: believe nothing left of it
		}
		if !h.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func (h *Handler) trusted(a netip.Addr) bool {
	for _, p := range h.o.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr reads "ip", "ip:port" or "[ipv6]:port"; IPv4-mapped IPv6 becomes IPv4.
func parseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func addrString(a netip.Addr, raw string) string {
	if a.IsValid() {
		return a.String()
	}
	return raw
}

// limit applies the web listener's request limits: one for the whole listener and one per client
// address (a token bucket refilling RatePerClientPerMinute a minute). Beyond them the request is
// answered with the 429 page and Retry-After, before any session is read or written.
func (h *Handler) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := h.o.Now()
		wait := time.Duration(0)
		if !h.global.AllowN(now, 1) {
			wait = time.Second
		} else if ok, d := h.perClient.Allow(h.clientAddr(r), now); !ok {
			wait = d
		}
		if wait > 0 {
			if h.o.Metrics != nil {
				h.o.Metrics.WebRefusals.WithLabelValues("rate_limited").Inc()
			}
			w.Header().Set("Retry-After", retryAfter(wait))
			h.renderError(w, r, nil, errTooMany)
			return
		}
		next.ServeHTTP(w, r)
	})
}
