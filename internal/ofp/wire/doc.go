// Package wire is the PayNet side's own reading of the OFP wire: the consent enums, the status
// lifecycle and the identity-hash rule, transcribed from spec/paynet-dp.md §3.1.1 and §5.1–5.3 and
// design.md §3.9 and §3.11. It is data and small functions only.
//
// The DP reads the same text in internal/consent; this package deliberately shares no code with
// it (design.md §7.8), so that the simulator and the conformance runner are a second reading of
// the spec: where the two disagree, one of them misread it, and conformance shows it.
package wire
