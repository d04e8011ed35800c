package keysource

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		raw, want, err string
	}{
		{raw: "pki/dp-sig.key", want: "file:pki/dp-sig.key"},
		{raw: "/etc/ofpdp/dp-sig.key", want: "file:/etc/ofpdp/dp-sig.key"},
		{raw: "file:/etc/ofpdp/dp-sig.key", want: "file:/etc/ofpdp/dp-sig.key"},
		{raw: "file:///etc/ofpdp/dp-sig.key", want: "file:/etc/ofpdp/dp-sig.key"},
		{raw: "./a:b.key", want: "file:./a:b.key"},
		{raw: "pkcs11:token=ofpdp;object=dp-sig;type=private?pin-source=/etc/ofpdp/pin",
			want: "pkcs11:token=ofpdp;object=dp-sig?pin-source=/etc/ofpdp/pin"},
		{raw: "pkcs11:serial=0123abcd;id=%01%02?pin-source=file:/p&module-path=/usr/lib/softhsm/libsofthsm2.so",
			want: "pkcs11:serial=0123abcd;id=%01%02?pin-source=/p&module-path=/usr/lib/softhsm/libsofthsm2.so"},
		{raw: "pkcs11:token=My%20Bank;object=sig%3B1?pin-source=/p", want: "pkcs11:token=My%20Bank;object=sig%3B1?pin-source=/p"},
		{raw: "awskms:" + testARN, want: "awskms:" + testARN},
		{raw: "", err: "empty"},
		{raw: "file:", err: "without a path"},
		{raw: "vault:transit/dp", err: `unknown scheme "vault"`},
		{raw: "pkcs11:object=dp-sig?pin-source=/p", err: "token= or serial="},
		{raw: "pkcs11:token=t?pin-source=/p", err: "object= or id="},
		{raw: "pkcs11:token=t;object=o", err: "pin-source"},
		{raw: "pkcs11:token=t;object=o?pin-value=1234", err: "pin-value is refused"},
		{raw: "pkcs11:token=t;object=o;pin-source=/p", err: "query part"},
		{raw: "pkcs11:token=t;object=o;type=public?pin-source=/p", err: "want private"},
		{raw: "pkcs11:token=t;token=u;object=o?pin-source=/p", err: "given twice"},
		{raw: "pkcs11:token=t;objekt=o?pin-source=/p", err: `"objekt" not supported`},
		{raw: "pkcs11:token=t;object=%zz?pin-source=/p", err: "invalid URL escape"},
		{raw: "pkcs11:token;object=o?pin-source=/p", err: "without a value"},
		{raw: "awskms:alias/dp-sig", err: "key ARN"},
		{raw: "awskms:" + testARN + "?endpoint=http://kms.local", err: "https"},
		{raw: "awskms:" + testARN + "?region=x", err: `"region" not supported`},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			loc, err := Parse(tc.raw)
			if tc.err != "" {
				if err == nil || !errors.Is(err, ErrURI) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want ErrURI saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := loc.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
			again, err := Parse(loc.String())
			if err != nil || again.String() != tc.want {
				t.Fatalf("round trip: %q, %v", again.String(), err)
			}
		})
	}
}

func TestKMSEndpointFromARN(t *testing.T) {
	loc, err := Parse("awskms:" + testARN)
	if err != nil {
		t.Fatal(err)
	}
	if loc.KMS.Region != "ap-southeast-5" || loc.KMS.Endpoint != "https://kms.ap-southeast-5.amazonaws.com" {
		t.Fatalf("%+v", loc.KMS)
	}
}

func TestReadPIN(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, path, want, err string
	}{
		{"ok", write("ok", "1234\n", 0o600), "1234", ""},
		{"crlf", write("crlf", "1234\r\n", 0o400), "1234", ""},
		{"group readable", write("g", "1234", 0o640), "", "accessible by group or others"},
		{"empty", write("e", "\n", 0o600), "", "is empty"},
		{"missing", filepath.Join(dir, "nope"), "", "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pin, err := readPIN(tc.path)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || pin != tc.want {
				t.Fatalf("%q, %v", pin, err)
			}
		})
	}
}

// FuzzParse: key URIs come from configuration files and the environment; the parser must not
// panic, and whatever it accepts must print as a URI that parses to the same thing.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"pki/dp-sig.key", "file:/x", "pkcs11:token=a;object=b?pin-source=/p&module-path=/m",
		"pkcs11:serial=1;id=%00%ff?pin-source=file:/p", "awskms:" + testARN + "?endpoint=https://vpce.example", "pkcs11:;;?&&", "x:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		loc, err := Parse(raw)
		if err != nil {
			return
		}
		again, err := Parse(loc.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", raw, loc.String(), err)
		}
		if again.String() != loc.String() {
			t.Fatalf("%q: %q then %q", raw, loc.String(), again.String())
		}
	})
}
