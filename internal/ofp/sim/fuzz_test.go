package sim

import (
	"encoding/json"
	"testing"
)

// FuzzUpdateBody feeds the PATCH body parser (spec §3.2.1) arbitrary bytes: it must never panic,
// and whatever it accepts must satisfy the schema's invariants.
func FuzzUpdateBody(f *testing.F) {
	f.Add("c1", []byte(`{"status":"rejected"}`))
	f.Add("c1", []byte(`{"consent_id":"c1","status":"authorized","id_token":"x.y.z","user_identity":{"id_type":"nric","masked_id_number":"****1234","hashed_id_number":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},"accounts":[{"account_id":"a1","account_number":"1","account_name":"n"}]}`))
	f.Add("c1", []byte(`{"status":"failed","status_reason":{"reason_code":"timeout"}}`))
	f.Add("c1", []byte(`[]`))
	f.Fuzz(func(t *testing.T, id string, body []byte) {
		var u updateBody
		if err := decodeStrict(body, &u); err != nil {
			return
		}
		if validateUpdate(id, &u) != nil {
			return
		}
		switch u.Status {
		case "authorized":
			if u.IDToken == "" || u.UserIdentity == nil || len(u.Accounts) == 0 || !validHash(u.UserIdentity.HashedIDNumber) {
				t.Fatalf("accepted an incomplete authorized update: %s", body)
			}
		case "rejected", "failed":
			if u.IDToken != "" || u.UserIdentity != nil || u.Accounts != nil {
				t.Fatalf("accepted a refusal that shares data: %s", body)
			}
		default:
			t.Fatalf("accepted status %q", u.Status)
		}
		if u.ConsentID != nil && *u.ConsentID != id {
			t.Fatalf("accepted a consent_id different from the path")
		}
	})
}

// FuzzFault feeds POST /sim/faults bodies: never panic; an accepted fault has a sane kind and count.
func FuzzFault(f *testing.F) {
	f.Add([]byte(`{"patch":"status:500","count":2}`))
	f.Add([]byte(`{"patch":"timeout","count":1}`))
	f.Add([]byte(`{"patch":"","count":0}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fl Fault
		if json.Unmarshal(body, &fl) != nil {
			return
		}
		kind, status, err := parseFault(fl)
		if err != nil {
			return
		}
		if fl.Count < 0 || fl.Count > maxFaultCount {
			t.Fatalf("accepted count %d", fl.Count)
		}
		if kind == "status" && (status < 400 || status > 599) {
			t.Fatalf("accepted status %d", status)
		}
	})
}
