// Package ratelimit holds the in-process request limits shared by the listeners: a token bucket
// per key over golang.org/x/time/rate. The api listener limits per data consumer and per consent
// (spec §7.1, design.md §3.14, negative-tests D16); the web listener per client address
// (docs/security.md "Customer listener limits").
package ratelimit
