package connector

import "testing"

func TestSharedNumber(t *testing.T) {
	cases := []struct {
		typ, subtype, number, want string
	}{
		{TypeDeposit, SubtypeSavings, "1234567890", "1234567890"},
		{TypeDeposit, SubtypeCurrent, "1234-5678-90", "1234567890"},
		{TypeLoan, SubtypeMortgage, "7000123456789", "7000123456789"},
		{TypeCredit, SubtypeCreditCard, "1234567890127890", "123456******7890"},
		{TypeCredit, SubtypeCreditCard, "4111 1111 1111 1234", "411111******1234"},
		{TypeCredit, SubtypeCreditCard, "378282246310005", "378282*****0005"},
		{TypeCredit, SubtypeCreditCard, "12345678901", "123456*8901"},
		{TypeCredit, SubtypeCreditCard, "1234567890", "******7890"},
		{TypeCredit, SubtypeCreditCard, "12345678", "****5678"},
		{TypeCredit, SubtypeCreditCard, "12345", "*2345"},
		{TypeCredit, SubtypeCreditCard, "1234", "****"},
		{TypeCredit, SubtypeCreditCard, "", ""},
	}
	for _, c := range cases {
		a := Account{Type: c.typ, Subtype: c.subtype, Number: c.number}
		if got := a.SharedNumber(); got != c.want {
			t.Errorf("SharedNumber(%s %q) = %q, want %q", c.subtype, c.number, got, c.want)
		}
	}
}
