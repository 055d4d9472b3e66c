package component

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

type fake struct {
	name     string
	log      *[]string
	startErr error
	readyIn  int
}

func (f *fake) Name() string               { return f.name }
func (f *fake) Init(context.Context) error { *f.log = append(*f.log, "init "+f.name); return nil }
func (f *fake) Start(context.Context) error {
	*f.log = append(*f.log, "start "+f.name)
	return f.startErr
}
func (f *fake) Stop(context.Context) error { *f.log = append(*f.log, "stop "+f.name); return nil }
func (f *fake) Ready(context.Context) error {
	if f.readyIn > 0 {
		f.readyIn--
		return errors.New("warming up")
	}
	return nil
}

func TestManagerOrder(t *testing.T) {
	var log []string
	m := &Manager{ReadyInterval: time.Millisecond}
	m.Add(&fake{name: "etcd", log: &log, readyIn: 2}, &fake{name: "apiserver", log: &log})
	if err := m.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := m.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := "init etcd,start etcd,init apiserver,start apiserver,stop apiserver,stop etcd"
	if got := strings.Join(log, ","); got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func TestManagerStartFailureStopsStarted(t *testing.T) {
	var log []string
	m := &Manager{}
	m.Add(&fake{name: "etcd", log: &log}, &fake{name: "apiserver", log: &log, startErr: errors.New("port in use")})
	err := m.Start(context.Background())
	if err == nil || err.Error() != "apiserver: start: port in use" {
		t.Fatalf("err = %v", err)
	}
	if got := strings.Join(log, ","); got != "init etcd,start etcd,init apiserver,start apiserver,stop etcd" {
		t.Errorf("got %s", got)
	}
}

func TestManagerReadyTimeout(t *testing.T) {
	var log []string
	m := &Manager{ReadyTimeout: 20 * time.Millisecond, ReadyInterval: time.Millisecond}
	m.Add(&fake{name: "etcd", log: &log, readyIn: 1 << 30})
	err := m.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "etcd: not ready after 20ms: warming up") {
		t.Fatalf("err = %v", err)
	}
}
