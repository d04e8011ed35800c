// Package lockout decides whether a customer's sign-in attempt may reach the core bank
// (negative-tests U12; design.md §3.9 "lockout → failed"; docs/security.md "Sign-in attempts").
//
// Every attempt reserves, before the bank is asked, one attempt on each of five counters kept in
// the store, each in one atomic statement so that parallel requests and several replicas cannot
// overrun a limit:
//
//   - the username from this client address: past Policy.MaxFailures, progressive delay (one more
//     attempt after 1×, 2×, 3× … Policy.DelayStep), so a guesser is slowed down while the real
//     customer, elsewhere, is not locked out by someone else's guesses;
//   - the username from anywhere: a hard lock past Policy.HardLockFailures within Policy.Window
//     (higher than MaxFailures; the only lock a stranger can cause, and only by many guesses);
//   - the client address, whatever the username (password spraying), Policy.PerClient;
//   - the consent, across its journeys, Policy.PerConsent;
//   - the whole deployment, Policy.GlobalPerMinute failed sign-ins a minute.
//
// A reservation counts as a failure until the attempt ends: a successful sign-in clears the
// username's counters and gives back the others; an attempt the bank could not answer gives all
// of them back. Usernames and addresses are kept only as SHA-256 hashes.
package lockout
