package demo

// Login is a demo customer's sign-in, for the sandbox to print (design.md §8: sandbox.json
// lists the demo customers' usernames and passwords).
type Login struct {
	Username, Password, Name string
}

// Logins are the sign-ins of the customers in the embedded demo bank (data/bank.json holds
// only their bcrypt hashes). They are public demo credentials, documented in
// docs/connector.md; a bank's own data file has its own.
func Logins() []Login {
	return []Login{
		{Username: "aisyah", Password: "Demo@1234", Name: "NUR AISYAH BINTI AHMAD"},
		{Username: "tan", Password: "Demo@5678", Name: "TAN WEI MING"},
		{Username: "john", Password: "Demo@9012", Name: "JOHN MICHAEL SMITH"},
	}
}
