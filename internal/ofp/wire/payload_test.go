package wire

import (
	"strings"
	"testing"
)

// The good payloads follow the spec's examples (spec §5.5 sandbox balance; §5.4–5.6 tables).
const (
	goodAccount = `{"data":{"account_id":"acc-1","account_number":"123456******7890","account_name":"Visa",
"account_holder_name":"TAN","institution_name":"PayBank Berhad","category":"retail","type":"credit","subtype":"credit_card",
"limit":{"amount":"10000.00","currency":"MYR"},"interest_rate":18.5,"custom_data":{"tier":"gold"}}}`
	goodBalance = `{"data":{"account_id":"100004000000000000000004","current_balance":{"amount":{"amount":"25000.75","currency":"MYR"},"credit_debit_indicator":"credit"},
"statement_balance":{"amount":{"amount":"24500.00","currency":"MYR"},"credit_debit_indicator":"debit"},"statement_date":"2025-11-22","credit_lines_included":false}}`
	goodPage = `{"data":[{"account_id":"acc-1","transaction_id":"t1","transaction_date":"2018-06-11T11:30:12+08:00",
"credit_debit_indicator":"debit","amount":{"amount":"23.78","currency":"MYR"},"transfer_method":"online_payment",
"transfer_submethod":"fpx","description":"Lunch","is_settled":true}],"meta":{"next_page_params":null}}`
	goodUserInfo = `{"sub":"u-1","name":"TAN","email_verified":true,"id_type":"nric","hashed_id_number":"ZDw4k4a05epnrhCzTaazvH3GMIz4VTwI81ZPbdsY12E="}`
)

func TestCheckPayloads(t *testing.T) {
	check := map[string]func(string) []string{
		"account":  func(s string) []string { return CheckAccount([]byte(s)) },
		"balance":  func(s string) []string { return CheckBalance([]byte(s)) },
		"page":     func(s string) []string { return CheckTransactionsPage([]byte(s), "acc-1") },
		"userinfo": func(s string) []string { return CheckUserInfo([]byte(s)) },
	}
	good := map[string]string{"account": goodAccount, "balance": goodBalance, "page": goodPage, "userinfo": goodUserInfo}
	for kind, s := range good {
		if devs := check[kind](s); len(devs) != 0 {
			t.Errorf("good %s: %v", kind, devs)
		}
	}
	for _, tc := range []struct {
		kind, old, new, want string
	}{
		{"account", `"123456******7890"`, `"1234567890123456"`, "data.account_number: a credit account number not masked"},
		{"account", `"category":"retail"`, `"category":"corporate"`, "data.category: not one of"},
		{"account", `"subtype":"credit_card"`, `"subtype":"savings"`, "data.subtype: not one of"},
		{"account", `"interest_rate":18.5`, `"interest_rate":"18.5"`, "data.interest_rate: not a number"},
		{"account", `"limit":{"amount":"10000.00","currency":"MYR"},`, ``, "data.limit: missing"},
		{"account", `"institution_name":"PayBank Berhad",`, `"name":"x",`, "data.institution_name: missing"},
		{"account", `"institution_name":"PayBank Berhad",`, `"institution_name":"PayBank Berhad","name":"x",`, "data.name: not a member"},
		{"account", `{"tier":"gold"}`, `{"tier":1}`, "data.custom_data: a value that is not a string"},
		{"balance", `"25000.75"`, `"25000.7"`, "data.current_balance.amount.amount: not a decimal string"},
		{"balance", `"25000.75"`, `25000.75`, "data.current_balance.amount.amount: not a string"},
		{"balance", `"credit_lines_included":false`, `"credit_lines_included":"false"`, "data.credit_lines_included: not a boolean"},
		{"balance", `"credit_debit_indicator":"credit"`, `"credit_debit_indicator":"CREDIT"`, "data.current_balance.credit_debit_indicator: not one of"},
		{"balance", `"statement_date":"2025-11-22"`, `"statement_date":"22/11/2025"`, "data.statement_date: not a date"},
		{"balance", `"currency":"MYR"},"credit_debit_indicator":"credit"`, `"currency":"USD"},"credit_debit_indicator":"credit"`, "currency: not MYR"},
		{"page", `"2018-06-11T11:30:12+08:00"`, `"2018-06-11T03:30:12Z"`, "data[0].transaction_date: not an ISO 8601 date-time in MYT"},
		{"page", `"transfer_submethod":"fpx"`, `"transfer_submethod":"jompay"`, "data[0].transfer_submethod: not one of"},
		{"page", `"is_settled":true`, `"settled":true`, "data[0].is_settled: missing"},
		{"page", `"account_id":"acc-1"`, `"account_id":"acc-2"`, "data[0].account_id: not the account asked for"},
		{"page", `,"meta":{"next_page_params":null}`, ``, "payload.meta: missing"},
		{"page", `"next_page_params":null`, `"next_page_params":5`, "meta.next_page_params: neither a string nor null"},
		{"userinfo", `"email_verified":true`, `"email_verified":"true"`, "userinfo.email_verified: not a boolean"},
		{"userinfo", `"ZDw4k4a05epnrhCzTaazvH3GMIz4VTwI81ZPbdsY12E="`, `"ZDw4k4a05epnrhCzTaazvH3GMIz4VTwI81ZPbdsY12E"`, "userinfo.hashed_id_number: not standard padded base64"},
		{"userinfo", `"id_type":"nric",`, ``, "userinfo.id_type: missing"},
	} {
		s := strings.Replace(good[tc.kind], tc.old, tc.new, 1)
		if s == good[tc.kind] {
			t.Fatalf("%s: %q not in the good payload", tc.kind, tc.old)
		}
		devs := check[tc.kind](s)
		found := false
		for _, d := range devs {
			found = found || strings.HasPrefix(d, tc.want) || strings.Contains(d, tc.want)
		}
		if !found {
			t.Errorf("%s with %s: deviations %q, want one like %q", tc.kind, tc.new, devs, tc.want)
		}
		for _, d := range devs {
			if strings.Contains(d, "1234567890123456") {
				t.Errorf("a deviation quotes the account number: %s", d)
			}
		}
	}
}

func TestCheckPageNotArray(t *testing.T) {
	if d := CheckTransactionsPage([]byte(`{"data":{},"meta":{"next_page_params":null}}`), "a"); len(d) != 1 || d[0] != "data: not an array" {
		t.Errorf("deviations %q", d)
	}
}

// FuzzCheckPayloads: the checks read what a DP sends, untrusted; they must not panic.
func FuzzCheckPayloads(f *testing.F) {
	for _, s := range []string{goodAccount, goodBalance, goodPage, goodUserInfo, `{"data":null}`, `[]`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		CheckAccount(b)
		CheckBalance(b)
		CheckTransactionsPage(b, "acc-1")
		CheckUserInfo(b)
	})
}
