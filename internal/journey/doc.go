// Package journey is the customer authorization journey of spec paynet-dp.md §7.5 as a state
// machine of its own, without HTTP: the session's State, its typed Steps and Outcomes, and one
// method per step (open, login, first-factor result, the bank's second factor, select accounts,
// review, decide, cancel) that checks the step is legal in the current state and returns an
// Action saying what must happen next — show a page, redirect to a step, conclude with a consent update (PATCH to
// PayNet and record, design.md §3.9), or end without one.
//
// The model is crypto/tls's serverHandshakeState: the state is plain data, each step is a
// method, and an illegal order (a decision before sign-in, a login after it, a selection
// without a signed-in customer) is refused by the method itself, never by the caller.
// internal/web routes requests to these methods, does the I/O an Action names (core bank,
// store, PayNet) and renders; it holds no journey rule of its own.
//
// Identity binding (design.md §3.11) and the account selection rules (spec §5.4,
// negative-tests U11) live here too, so the table tests cover them without a server.
package journey
