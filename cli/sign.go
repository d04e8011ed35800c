package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ofpdp/ofpdp/internal/jose"
)

func signHelp() [][2]string {
	return [][2]string{{"sign", "print an x-fapi-signature (detached JWS) for a request body, for curl"}}
}

func runSign(_ context.Context, args []string, stdout, stderr io.Writer, _ env) int {
	fs := flag.NewFlagSet("ofpdp sign", flag.ContinueOnError)
	keyFile := fs.String("key", "", "PEM private `file` of the signing key (e.g. pki/paynet-sig.key)")
	certFile := fs.String("cert", "", "PEM certificate `file` of the key; its x5t#S256 is the kid unless --kid is given")
	kid := fs.String("kid", "", "kid to put in the header instead of the certificate thumbprint")
	iss := fs.String("iss", "", "iss of the protected header (PayNet's issuer, e.g. paynet in the sandbox)")
	file := fs.String("file", "-", "`file` holding the exact body bytes to sign; - for standard input; an empty file for GET")
	if code, done := parseFlags(fs, args, stdout, stderr, "ofpdp sign --key FILE --cert FILE [--iss ISS] [--kid KID] [--file BODY]",
		"Prints a compact detached JWS over the body bytes, with the header PayNet uses\n"+
			"({alg, kid, iss, jti, iat, crit:[iat,iss,jti]}), a new jti and the current iat. Use it as\n"+
			"  curl -H \"x-fapi-signature: $(ofpdp sign --key K --cert C --iss paynet --file body.json)\" --data-binary @body.json …\n"+
			"Sign the exact bytes you send (--data-binary, not --data). See docs/paynet-by-hand.md."); done {
		return code
	}
	if *keyFile == "" || *certFile == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "ofpdp sign: --key and --cert are required (and no other arguments)")
		return 2
	}
	key, err := jose.LoadSigningKey(*keyFile, *certFile)
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp sign: %v\n", err)
		return 1
	}
	if *kid != "" {
		key.Kid = *kid
	}
	var body []byte
	if *file == "-" {
		body, err = io.ReadAll(os.Stdin)
	} else {
		body, err = os.ReadFile(*file)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp sign: reading the body: %v\n", err)
		return 1
	}
	sig, err := (&jose.Signer{Key: key, Issuer: *iss}).SignDetached(body)
	if err != nil {
		fmt.Fprintf(stderr, "ofpdp sign: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, sig)
	return 0
}
