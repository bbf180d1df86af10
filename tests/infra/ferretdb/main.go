// Command ferretdb-test runs an embedded FerretDB (SQLite backend) on loopback for the test suite.
//
// We embed the library instead of `go install`-ing FerretDB's own binary because that binary
// panics at start when built from the module proxy (build/version/version.txt is missing,
// FerretDB issue #2982); the embeddable package skips that check.
//
// Modes:
//
//	ferretdb-test -dir DIR [-port N] [-addr-file F]   serve until SIGTERM/SIGINT
//	ferretdb-test -ping URL [-timeout D]              exit 0 once URL answers a MongoDB ping
//	ferretdb-test -version                            print the linked FerretDB version
//
// The ping mode lets the start script check readiness over the real wire protocol without
// needing Python or a mongo shell; the Go driver is already in FerretDB's module graph.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

const ferretModule = "github.com/FerretDB/FerretDB"

// ferretVersion reads the FerretDB module version linked into this binary, so the version the
// start script reports is the one actually built, not a string we typed.
func ferretVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == ferretModule {
			return dep.Version
		}
	}
	return "unknown"
}

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "ferretdb-test: "+format+"\n", args...)
	os.Exit(code)
}

// ping returns nil once uri answers {ping: 1}; one attempt, bounded by timeout.
func ping(uri string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	opts := options.Client().ApplyURI(uri).
		SetServerSelectionTimeout(timeout).
		SetConnectTimeout(timeout)
	client, err := mongo.Connect(ctx, opts)
	if err != nil {
		return err
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	return client.Database("admin").RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err()
}

func serve(port int, dir, addrFile string, logger *slog.Logger) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		fail(2, "bad -dir: %v", err)
	}
	// FerretDB opens the directory lazily; checking here gives a clear message instead.
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		fail(2, "-dir %s is not an existing directory", abs)
	}

	f, err := ferretdb.New(&ferretdb.Config{
		// Port 0 lets the kernel choose, so concurrent test runs never race for a port.
		Listener: ferretdb.ListenerConfig{TCP: fmt.Sprintf("127.0.0.1:%d", port)},
		Logger:   logger,
		Handler:  "sqlite",
		// The SQLite handler wants a URI naming a directory, with the trailing slash.
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		fail(1, "%v", err)
	}

	// v1.24's New already listens, so the chosen address is known before Run.
	uri := f.MongoDBURI()
	if addrFile != "" {
		tmp := addrFile + ".tmp"
		// Written then renamed, so a reader never sees half a URI.
		if err := os.WriteFile(tmp, []byte(uri+"\n"), 0o644); err != nil {
			fail(1, "write -addr-file: %v", err)
		}
		if err := os.Rename(tmp, addrFile); err != nil {
			fail(1, "write -addr-file: %v", err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	logger.Warn("ferretdb serving", "version", ferretVersion(), "uri", uri, "dir", abs)
	if err := f.Run(ctx); err != nil {
		fail(1, "%v", err)
	}
	logger.Warn("ferretdb stopped")
}

func main() {
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0: any free port)")
	dir := flag.String("dir", "", "existing directory for the SQLite databases")
	addrFile := flag.String("addr-file", "", "write the mongodb:// URI here once listening")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	pingURI := flag.String("ping", "", "ping this mongodb:// URI and exit 0 on success")
	timeout := flag.Duration("timeout", 2*time.Second, "time limit of one -ping")
	showVersion := flag.Bool("version", false, "print the FerretDB version and exit")
	flag.Parse()

	switch {
	case *showVersion:
		fmt.Printf("FerretDB %s\n", ferretVersion())
	case *pingURI != "":
		if _, err := url.Parse(*pingURI); err != nil {
			fail(2, "bad -ping URI: %v", err)
		}
		if err := ping(*pingURI, *timeout); err != nil {
			fail(1, "ping: %v", err)
		}
	default:
		if *port < 0 || *port > 65535 || *dir == "" {
			fail(2, "usage: ferretdb-test -dir DIR [-port N] [-addr-file F]")
		}
		var level slog.Level
		if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			fail(2, "bad -log-level: %v", err)
		}
		logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
		serve(*port, *dir, *addrFile, logger)
	}
}
