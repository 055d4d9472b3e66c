package audit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// FlushInterval bounds how long an event may sit in the Logger's buffer: log readers that tail
// the file see each request within this time.
const FlushInterval = time.Second

// bufferSize is the write buffer: large enough that a burst of requests costs one write(2).
const bufferSize = 256 << 10

// LoggerConfig configures a Logger from kube-apiserver's --audit-log-* flags.
type LoggerConfig struct {
	// Path is --audit-log-path: the file to append to, rotated as configured below; "-" is
	// standard output.
	Path string
	// MaxAgeDays is --audit-log-maxage: rotated files older than this are deleted (0 keeps them).
	MaxAgeDays int
	// MaxBackups is --audit-log-maxbackup: at most this many rotated files are kept (0 keeps all).
	MaxBackups int
	// MaxSizeMB is --audit-log-maxsize: the file is rotated when it would grow past this many
	// megabytes (0 means lumberjack's default of 100).
	MaxSizeMB int
	// Policy is --audit-policy-file's policy; nil means DefaultPolicy.
	Policy *Policy
	// Out, if set, receives the log instead of Path (tests, embedding); it is not closed.
	Out io.Writer
	// OnError, if set, is told about every failed write. By default failures are printed to
	// standard error at most once a minute, so a full disk does not flood it.
	OnError func(error)
}

// Logger writes audit events as JSON lines, the format of kube-apiserver's log backend. It is
// safe for concurrent use; writes are serialized and buffered, and the buffer is flushed at
// least every FlushInterval and on Close.
type Logger struct {
	policy  *Policy
	onError func(error)

	mu       sync.Mutex
	w        *bufio.Writer
	out      io.Writer
	closer   io.Closer
	dirty    bool
	closed   bool
	lastErr  time.Time
	stop     chan struct{}
	stopped  chan struct{}
	closeErr error
}

// ErrClosed is returned by Log after Close: the event was dropped.
var ErrClosed = errors.New("audit logger is closed")

// NewLogger opens the audit log. It creates the file (mode 0600) and its directory at once, so
// a bad --audit-log-path stops the apiserver at start rather than losing events later.
func NewLogger(cfg LoggerConfig) (*Logger, error) {
	if cfg.MaxAgeDays < 0 || cfg.MaxBackups < 0 || cfg.MaxSizeMB < 0 {
		return nil, fmt.Errorf("audit log: --audit-log-maxage (%d), --audit-log-maxbackup (%d) and --audit-log-maxsize (%d) must not be negative; use 0 for no limit",
			cfg.MaxAgeDays, cfg.MaxBackups, cfg.MaxSizeMB)
	}
	l := &Logger{policy: cfg.Policy, onError: cfg.OnError, stop: make(chan struct{}), stopped: make(chan struct{})}
	if l.policy == nil {
		l.policy = DefaultPolicy()
	}
	var out io.Writer
	switch {
	case cfg.Out != nil:
		out = cfg.Out
	case cfg.Path == "-":
		out = os.Stdout
	case cfg.Path == "":
		return nil, errors.New("audit log: no destination; set --audit-log-path to a file, or - for standard output")
	default:
		if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
			return nil, fmt.Errorf("audit log: creating the directory of --audit-log-path: %w (choose a writable location)", err)
		}
		f, err := os.OpenFile(cfg.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("audit log: opening --audit-log-path: %w (choose a writable file)", err)
		}
		_ = f.Close()
		lj := &lumberjack.Logger{
			Filename:   cfg.Path,
			MaxAge:     cfg.MaxAgeDays,
			MaxBackups: cfg.MaxBackups,
			MaxSize:    cfg.MaxSizeMB,
		}
		out, l.closer = lj, lj
	}
	l.out = out
	l.w = bufio.NewWriterSize(out, bufferSize)
	go l.flushLoop()
	return l, nil
}

// Policy is the policy the Logger applies to requests.
func (l *Logger) Policy() *Policy { return l.policy }

func (l *Logger) flushLoop() {
	defer close(l.stopped)
	t := time.NewTicker(FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			if l.dirty && !l.closed {
				l.dirty = false
				if err := l.w.Flush(); err != nil {
					l.reportLocked(err)
				}
			}
			l.mu.Unlock()
		}
	}
}

// Log writes ev as one line, as given: no policy is applied. Kind and APIVersion are filled in
// if empty. The middleware uses it for each stage; other components may log their own events.
func (l *Logger) Log(ev *Event) error {
	if ev.Kind == "" {
		ev.Kind = "Event"
	}
	if ev.APIVersion == "" {
		ev.APIVersion = "audit.k8s.io/v1"
	}
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b, err := appendEvent((*bp)[:0], ev)
	if err != nil {
		return fmt.Errorf("encoding audit event %s: %w", ev.AuditID, err)
	}
	b = append(b, '\n')
	*bp = b
	return l.writeLine(b)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

func (l *Logger) writeLine(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	_, err := l.w.Write(b)
	l.dirty = true
	if err != nil {
		l.reportLocked(err)
		return fmt.Errorf("writing audit log: %w (check the disk holding --audit-log-path)", err)
	}
	return nil
}

// reportLocked tells the operator a write failed; bufio keeps failing until reset, so the
// writer is reset to retry on the next event.
func (l *Logger) reportLocked(err error) {
	err = fmt.Errorf("audit log write failed, events lost: %w (check the disk holding --audit-log-path)", err)
	l.w.Reset(l.out)
	if l.onError != nil {
		l.onError(err)
		return
	}
	if now := time.Now(); now.Sub(l.lastErr) >= time.Minute {
		l.lastErr = now
		fmt.Fprintln(os.Stderr, err)
	}
}

// Flush writes buffered events out now, for callers that need the log current (tests,
// shutdown hooks).
func (l *Logger) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.dirty = false
	if err := l.w.Flush(); err != nil {
		l.w.Reset(l.out)
		return fmt.Errorf("flushing audit log: %w (check the disk holding --audit-log-path)", err)
	}
	return nil
}

// Close flushes buffered events and closes the log file; events logged afterwards are
// dropped with ErrClosed. It is safe to call more than once.
func (l *Logger) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return l.closeErr
	}
	l.closed = true
	close(l.stop)
	var errs []error
	if err := l.w.Flush(); err != nil {
		errs = append(errs, fmt.Errorf("flushing audit log: %w", err))
	}
	if l.closer != nil {
		if err := l.closer.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing audit log: %w", err))
		}
	}
	l.closeErr = errors.Join(errs...)
	l.mu.Unlock()
	<-l.stopped
	return l.closeErr
}
