// Command etcd is a tiny launcher for an embedded, single-member etcd
// (go.etcd.io/etcd/server/v3/embed), used as the store of the reference
// kube-apiserver in tests. It prints "etcd ready <client-url>" on stdout once
// the member serves clients and exits 0 after a clean shutdown on SIGTERM or
// SIGINT.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func parseURL(flagName, raw string) url.URL {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		fmt.Fprintf(os.Stderr, "etcd: invalid --%s %q: want e.g. http://127.0.0.1:2379\n", flagName, raw)
		os.Exit(2)
	}
	return *u
}

func main() {
	dataDir := flag.String("data-dir", "", "directory for etcd data (required)")
	clientURL := flag.String("listen-client-url", "http://127.0.0.1:2379", "URL to serve clients on")
	peerURL := flag.String("listen-peer-url", "http://127.0.0.1:2380", "URL to serve peers on")
	name := flag.String("name", "reference", "member name")
	logLevel := flag.String("log-level", "warn", "debug, info, warn, error")
	noFsync := flag.Bool("unsafe-no-fsync", false, "skip fsync (faster, for throwaway test data only)")
	quota := flag.Int64("quota-backend-bytes", 512<<20, "backend size quota in bytes")
	readyTimeout := flag.Duration("ready-timeout", 60*time.Second, "give up when not ready within this time")
	flag.Parse()
	if *dataDir == "" {
		fmt.Fprintln(os.Stderr, "etcd: --data-dir is required")
		os.Exit(2)
	}

	cfg := embed.NewConfig()
	cfg.Name = *name
	cfg.Dir = *dataDir
	cu := parseURL("listen-client-url", *clientURL)
	pu := parseURL("listen-peer-url", *peerURL)
	cfg.ListenClientUrls = []url.URL{cu}
	cfg.AdvertiseClientUrls = []url.URL{cu}
	cfg.ListenPeerUrls = []url.URL{pu}
	cfg.AdvertisePeerUrls = []url.URL{pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = *logLevel
	cfg.UnsafeNoFsync = *noFsync
	cfg.QuotaBackendBytes = *quota

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd: start failed: %v\n", err)
		os.Exit(1)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)

	select {
	case <-e.Server.ReadyNotify():
		fmt.Printf("etcd ready %s\n", cu.String())
	case <-time.After(*readyTimeout):
		fmt.Fprintf(os.Stderr, "etcd: not ready after %s\n", *readyTimeout)
		e.Close()
		os.Exit(1)
	case s := <-sigs:
		fmt.Fprintf(os.Stderr, "etcd: %s before ready, stopping\n", s)
		e.Close()
		os.Exit(0)
	}

	select {
	case err := <-e.Err():
		fmt.Fprintf(os.Stderr, "etcd: server error: %v\n", err)
		e.Close()
		os.Exit(1)
	case s := <-sigs:
		fmt.Fprintf(os.Stderr, "etcd: %s, stopping\n", s)
		e.Close()
		fmt.Fprintln(os.Stderr, "etcd: stopped")
	}
}
