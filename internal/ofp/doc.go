// Package ofp holds nothing but the rule that keeps its subpackages one party: PayNet's side
// of the wire — the OFP simulator (sim), the mock data consumer (mockdc), the conformance
// runner (conformance) and their two kernels, the wire reading of spec/paynet-dp.md §5
// (wire) and a standard-library JOSE (stdjose). design.md §7.8: the PayNet side never
// imports the DP's packages, so that it is a second, independent reading of the spec; the
// test in this directory enforces it with go list -deps.
package ofp
