// Package component gives every long-running kforge component (etcd, apiserver, controllers,
// kubelet ...) one lifecycle, so `kforge <component>` commands, in-process test clusters and
// all-in-one modes start and stop them the same way: in order, waiting for each to be ready,
// and in reverse on the way down.
package component

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Component is a part of kforge that runs in the background until stopped.
type Component interface {
	// Name identifies the component in logs and errors.
	Name() string
	// Init does fallible preparation (files, ports, config) and starts no goroutines.
	Init(ctx context.Context) error
	// Start returns once the component runs in the background.
	Start(ctx context.Context) error
	// Stop ends the component; calling it again, or before Start, is harmless.
	Stop(ctx context.Context) error
}

// Ready is implemented by components that can say when they serve; the Manager waits for it
// before starting the next component.
type Ready interface {
	Ready(ctx context.Context) error
}

// Manager starts components in order and stops them in reverse.
type Manager struct {
	// ReadyTimeout bounds the wait for each component's readiness; zero means one minute.
	ReadyTimeout time.Duration
	// ReadyInterval is the pause between readiness probes; zero means 100ms.
	ReadyInterval time.Duration

	components []Component
	started    []Component
}

// Add appends components to the start order.
func (m *Manager) Add(cs ...Component) { m.components = append(m.components, cs...) }

// Start initialises and starts every component in order, waiting for each to be ready. On a
// failure it stops what it had started and returns the error naming the component.
func (m *Manager) Start(ctx context.Context) error {
	for _, c := range m.components {
		if err := c.Init(ctx); err != nil {
			m.stopStarted(context.WithoutCancel(ctx))
			return fmt.Errorf("%s: init: %w", c.Name(), err)
		}
		if err := c.Start(ctx); err != nil {
			m.stopStarted(context.WithoutCancel(ctx))
			return fmt.Errorf("%s: start: %w", c.Name(), err)
		}
		m.started = append(m.started, c)
		if r, ok := c.(Ready); ok {
			if err := m.waitReady(ctx, c.Name(), r); err != nil {
				m.stopStarted(context.WithoutCancel(ctx))
				return err
			}
		}
	}
	return nil
}

func (m *Manager) waitReady(ctx context.Context, name string, r Ready) error {
	timeout, interval := m.ReadyTimeout, m.ReadyInterval
	if timeout == 0 {
		timeout = time.Minute
	}
	if interval == 0 {
		interval = 100 * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if last = r.Ready(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: not ready after %s: %w", name, timeout, last)
		case <-time.After(interval):
		}
	}
}

// Stop stops the started components in reverse order and returns every error met.
func (m *Manager) Stop(ctx context.Context) error { return m.stopStarted(ctx) }

func (m *Manager) stopStarted(ctx context.Context) error {
	var errs []error
	for i := len(m.started) - 1; i >= 0; i-- {
		c := m.started[i]
		if err := c.Stop(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: stop: %w", c.Name(), err))
		}
	}
	m.started = nil
	return errors.Join(errs...)
}
