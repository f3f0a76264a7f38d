// A lumberjack v2 (Beats protocol) server for Spillway's Logstash output
// tests: the server package of github.com/elastic/go-lumber (the same
// protocol code as Logstash's beats input speaks to libbeat), acking every
// batch after its events are written, one NDJSON line per event, exactly as
// received (the JSON text of the data frame, not re-encoded).
//
//	lumberjack-server -addr 127.0.0.1:0 -out events.ndjson [-tls-cert c -tls-key k [-tls-ca ca]]
//	                  [-ack-delay 2s] [-keepalive 1s] [-partial] [-drop-after-partial N]
//
// Once it listens it prints one line on stdout, "listening <host:port>", so a
// test that asked for port 0 learns the port. SIGTERM/SIGINT: close and exit 0.
//
// Test modes (the conn wrapper below rewrites the server's ACK frames, which
// go-lumber writes as one 6-byte frame '2' 'A' <seq uint32 BE>):
//
//	-partial               each ACK(n) with n > 1 goes out as ACK(n/2) then ACK(n),
//	                       the partial acknowledgements Logstash sends for a large window
//	-drop-after-partial N  for the first N windows: send ACK(n/2) and close the
//	                       connection, so the client must resend only the second half
//	-ack-delay D           hold each batch D before acking it; go-lumber sends
//	                       keepalive ACK(0) frames every -keepalive meanwhile
package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	lumberlog "github.com/elastic/go-lumber/log"
	server "github.com/elastic/go-lumber/server/v2"
)

type quiet struct{}

func (quiet) Printf(string, ...interface{}) {}
func (quiet) Println(...interface{})        {}
func (quiet) Print(...interface{})          {}

func main() {
	addr := flag.String("addr", "127.0.0.1:5044", "host:port to listen on (port 0: any free port)")
	out := flag.String("out", "-", "NDJSON file the events are appended to (- for stdout)")
	certFile := flag.String("tls-cert", "", "server certificate (PEM): serve TLS")
	keyFile := flag.String("tls-key", "", "server key (PEM)")
	caFile := flag.String("tls-ca", "", "CA (PEM) that client certificates must chain to: require one")
	ackDelay := flag.Duration("ack-delay", 0, "hold every batch this long before acking it")
	keepalive := flag.Duration("keepalive", 3*time.Second, "keepalive ACK(0) interval while a batch waits")
	partial := flag.Bool("partial", false, "acknowledge every window in two steps: ACK(n/2), then ACK(n)")
	dropAfterPartial := flag.Int("drop-after-partial", 0, "for the first N windows, ACK(n/2) and then close the connection")
	verbose := flag.Bool("v", false, "log go-lumber's connection messages to stderr")
	flag.Parse()

	if !*verbose {
		lumberlog.Logger = quiet{}
	}

	var w *bufio.Writer
	var f *os.File
	if *out == "-" {
		f = os.Stdout
	} else {
		var err error
		f, err = os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			log.Fatal(err)
		}
	}
	w = bufio.NewWriterSize(f, 1<<20)

	var l net.Listener
	var err error
	l, err = net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	if *certFile != "" {
		cfg, err := tlsConfig(*certFile, *keyFile, *caFile)
		if err != nil {
			log.Fatal(err)
		}
		l = tls.NewListener(l, cfg)
	}
	rw := &ackRewriter{Listener: l, partial: *partial}
	rw.drops.Store(int64(*dropAfterPartial))

	// Events as received: keep the data frame's JSON text (the buffer is reused by the reader: copy it).
	raw := func(b []byte, v interface{}) error {
		if !json.Valid(b) {
			return fmt.Errorf("data frame is not JSON: %.80q", b)
		}
		*(v.(*interface{})) = json.RawMessage(append([]byte(nil), b...))
		return nil
	}
	s, err := server.NewWithListener(rw, server.JSONDecoder(raw), server.Keepalive(*keepalive), server.Timeout(30*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("listening %s\n", l.Addr().String())
	os.Stdout.Sync()

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		_ = s.Close()
	}()

	var events, batches int64
	for b := range s.ReceiveChan() {
		for _, e := range b.Events {
			w.Write(e.(json.RawMessage))
			w.WriteByte('\n')
		}
		// On disk (or the pipe) before the ACK: an acknowledged event is always in the file.
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
		events += int64(len(b.Events))
		batches++
		if *ackDelay > 0 {
			time.Sleep(*ackDelay)
		}
		b.ACK()
	}
	w.Flush()
	fmt.Fprintf(os.Stderr, "lumberjack-server: %d events in %d batches\n", events, batches)
}

func tlsConfig(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no certificate found", caFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ackRewriter wraps every accepted connection so that ACK frames can be split
// (-partial) or cut short (-drop-after-partial).
type ackRewriter struct {
	net.Listener
	partial bool
	drops   atomic.Int64
}

func (r *ackRewriter) Accept() (net.Conn, error) {
	c, err := r.Listener.Accept()
	if err != nil || (!r.partial && r.drops.Load() <= 0) {
		return c, err
	}
	return &ackConn{Conn: c, r: r}, nil
}

type ackConn struct {
	net.Conn
	r  *ackRewriter
	mu sync.Mutex
}

func (c *ackConn) Write(p []byte) (int, error) {
	if len(p) != 6 || p[0] != '2' || p[1] != 'A' {
		return c.Conn.Write(p)
	}
	n := binary.BigEndian.Uint32(p[2:])
	if n < 2 {
		return c.Conn.Write(p) // keepalive ACK(0), or a window of one
	}
	drop := c.r.drops.Add(-1) >= 0
	if !drop && !c.r.partial {
		return c.Conn.Write(p)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	half := make([]byte, 6)
	copy(half, p[:2])
	binary.BigEndian.PutUint32(half[2:], n/2)
	if _, err := c.Conn.Write(half); err != nil {
		return 0, err
	}
	if drop {
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	return c.Conn.Write(p)
}
