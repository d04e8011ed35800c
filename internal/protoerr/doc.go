// Package protoerr is ofpdp's one protocol error type (design.md §4, §7.4): every refusal on a
// PayNet-facing endpoint is an *Error carrying the HTTP status, the error code of spec
// paynet-dp.md §6.2–6.3, a public text and the cause. The cause is logged; only the public text
// leaves the bank.
package protoerr
