package web

import (
	"context"
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
	hops := forwardedHops(r)
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

// forwardedHops are the client addresses the proxies appended: X-Forwarded-For, or when it is
// absent the for= parameters of Forwarded (RFC 7239 §5.2), oldest first.
func forwardedHops(r *http.Request) []string {
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	if len(hops) > 0 {
		return hops
	}
	for _, el := range forwardedElements(r) {
		hops = append(hops, el["for"])
	}
	return hops
}

// forwardedElements parses the Forwarded header (RFC 7239 §4) into its elements, oldest first,
// each a map of lower-cased parameter names to unquoted values. A malformed pair yields an
// element without that parameter, which callers treat as unknown.
func forwardedElements(r *http.Request) []map[string]string {
	var out []map[string]string
	for _, v := range r.Header.Values("Forwarded") {
		for _, el := range strings.Split(v, ",") {
			m := map[string]string{}
			for _, pair := range strings.Split(el, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if !ok {
					continue
				}
				m[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(val), `"`)
			}
			out = append(out, m)
		}
	}
	return out
}

// forwardedProto is the scheme the client used according to the nearest proxy: the last
// X-Forwarded-Proto value, else the proto= of Forwarded's last element; "" when neither says.
func forwardedProto(r *http.Request) string {
	if vals := r.Header.Values("X-Forwarded-Proto"); len(vals) > 0 {
		parts := strings.Split(vals[len(vals)-1], ",")
		return strings.ToLower(strings.TrimSpace(parts[len(parts)-1]))
	}
	if els := forwardedElements(r); len(els) > 0 {
		return strings.ToLower(els[len(els)-1]["proto"])
	}
	return ""
}

// frontEnd, when TLS is terminated by the bank's load balancer or WAF (Options.BehindProxy),
// serves only requests that come from a trusted proxy and that the proxy says reached it over
// HTTPS: anything else means a customer's session would cross a network in clear.
func (h *Handler) frontEnd(next http.Handler) http.Handler {
	if !h.o.BehindProxy {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer := parseAddr(r.RemoteAddr)
		switch {
		case !peer.IsValid() || !h.trusted(peer):
			h.o.Logger.WarnContext(r.Context(), "web: plain-HTTP request not from a trusted proxy refused")
		case forwardedProto(r) != "https":
			h.o.Logger.WarnContext(r.Context(), "web: request the proxy did not receive over HTTPS refused")
		default:
			next.ServeHTTP(w, r)
			return
		}
		h.renderError(w, r, nil, errForbidden)
	})
}

// clientKey carries the request's clientInfo in its context, for the audit trail.
type clientKey struct{}

type clientInfo struct{ addr, userAgent string }

// withClient puts the client's address and user agent in the request's context.
func (h *Handler) withClient(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), clientKey{}, clientInfo{addr: h.clientAddr(r), userAgent: r.UserAgent()})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func clientFrom(ctx context.Context) clientInfo {
	c, _ := ctx.Value(clientKey{}).(clientInfo)
	return c
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
