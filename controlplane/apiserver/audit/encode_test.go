package audit

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func checkEncoding(t *testing.T, ev *Event) {
	t.Helper()
	want, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendEvent(nil, ev)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("appendEvent differs from json.Marshal:\n got %s\nwant %s", got, want)
	}
}

func TestAppendEventMatchesEncodingJSON(t *testing.T) {
	ts := metav1.NewMicroTime(time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.FixedZone("x", 3600)))
	checkEncoding(t, &Event{})
	checkEncoding(t, &Event{
		Kind: "Event", APIVersion: "audit.k8s.io/v1", Level: LevelMetadata, AuditID: "id", Stage: StageResponseComplete,
		RequestURI: "/api/v1/pods?labelSelector=a%3Db&x=<>&y=\"", Verb: "list",
		User: authenticationv1.UserInfo{Username: "a\u2028b\x01\t\n\r\b\f\\", UID: "u", Groups: []string{"g", ""},
			Extra: map[string]authenticationv1.ExtraValue{"z": {"1"}, "a": nil, "m": {}}},
		ImpersonatedUser: &authenticationv1.UserInfo{Groups: []string{}},
		SourceIPs:        []string{"::1", "10.0.0.1"}, UserAgent: "ua \xff\xfe é 日本",
		ObjectRef:                &ObjectReference{Resource: "pods", Subresource: "log", APIGroup: "", Name: "n", UID: "uid", ResourceVersion: "5"},
		ResponseStatus:           &metav1.Status{Status: "Failure", Message: "m<&>", Reason: "Forbidden", Code: 403, Details: &metav1.StatusDetails{Name: "n", Causes: []metav1.StatusCause{{Type: "FieldValueInvalid", Field: "spec"}}}},
		RequestReceivedTimestamp: ts, StageTimestamp: ts,
		Annotations: map[string]string{"b": "2", "a": "1", "authorization.k8s.io/reason": `RBAC: allowed by ClusterRoleBinding "x"`},
	})
	checkEncoding(t, &Event{ObjectRef: &ObjectReference{}, ResponseStatus: &metav1.Status{}})
	checkEncoding(t, &Event{ResponseStatus: &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status"}, ListMeta: metav1.ListMeta{ResourceVersion: "1"}, Code: 200}})
}

func FuzzAppendEvent(f *testing.F) {
	f.Add("alice", "/api?x=<y>", "k", "v\u2029", "\xffgroup", int32(403))
	f.Fuzz(func(t *testing.T, user, uri, key, val, group string, code int32) {
		checkEncoding(t, &Event{
			User:       authenticationv1.UserInfo{Username: user, Groups: []string{group}, Extra: map[string]authenticationv1.ExtraValue{key: {val}}},
			RequestURI: uri, ObjectRef: &ObjectReference{Name: val, Namespace: key},
			ResponseStatus: &metav1.Status{Code: code, Message: uri},
			Annotations:    map[string]string{key: val, group: user},
			StageTimestamp: metav1.NewMicroTime(time.Unix(int64(code)*1000, int64(code))),
		})
	})
}
