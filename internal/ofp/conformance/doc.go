// Package conformance is `ofpdp conformance` (design.md §1): it acts as PayNet OFP and as a data
// consumer against any DP — ofpdp's sandbox or a bank's own — and reports, row by row, whether the
// DP does what the specification requires. It reaches the DP only over the network.
//
// What it runs (docs/sandbox.md lists every row):
//   - the E2E test journey of spec paynet-dp.md §7.6, steps 5, 6a, 6b, 7, 8, 9a, 9b, 10, 11a and
//     11b, driving the DP's pages over HTTP by following its redirects and submitting its forms
//     (parsed with golang.org/x/net/html) as a browser does;
//   - the four items of the Definition of Done (spec §7.6);
//   - the cases of negative-tests.md that can be driven from outside: mTLS T1, T2, T7 (§5.1);
//     signatures S1–S4, S6–S10, S12–S14 (§5.2, design.md §3.2); authorize U1, U2, U4, U6, U7,
//     U8, U10, U11, U12 (§5.4, design.md §3.3, §3.10); consent events C1–C3, C5–C10 (§5.5,
//     design.md §3.6); data D4, D5, D8–D10, D12–D18 (§5.6, design.md §3.5, §4).
//
// The PayNet side is split between the runner and the PayNet simulator (package sim): consents are
// created through the simulator, which sends consent_created and then receives and checks the
// DP's PATCH (spec §3.2.1), so what the DP PATCHed is read from the simulator's JSON API; the
// runner sends the negative events and the data calls itself, with paynet-mtls and paynet-sig from
// the development PKI (design.md §8), and opens the sealed answers as the DC would
// (stdjose.OpenResponse with dc-enc). It reads the spec with the PayNet side's own kernels —
// package wire for enums, lifecycle and identity hash, package stdjose (standard library only)
// for JWS and JWE, malformed signatures included — and imports none of the DP's packages
// (design.md §7.8; internal/ofp's dependency test).
//
// Every refusal case sends a request that would be accepted with a good signature or body, and
// control rows show the good one accepted, so a DP that refuses everything fails too. Run returns a
// Report (table and JSON); failures of the DP are rows, never errors.
package conformance
