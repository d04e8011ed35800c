// Package mockdc is the mock data consumer of `ofpdp sandbox` (design.md §1): "Kira", a small
// personal-finance app that walks a customer through the DC side of the journey of spec
// paynet-dp.md §2.2 and §7.6: linking screen → choose the bank → review what will be shared
// (purpose, permissions, duration; Consent-First, spec §7.5) → "Continue to {bank}", which creates
// the consent through the PayNet simulator (package sim) and sends the browser to the DP's
// authorize URL → back at /callback, either the linked accounts with their balances and recent
// transactions (E2E steps 10–11a, fetched through the simulator's RS) or "Account not linked" with
// the reason (step 11b).
//
// Pages are server-rendered with html/template and an embedded stylesheet, no JavaScript, and
// carry stable element ids for browser tests: #link, #bank-<id>, #continue, #accounts, .balance,
// .transaction, #not-linked.
package mockdc
