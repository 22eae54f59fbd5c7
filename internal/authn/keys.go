package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"custgraph/ent"
	"custgraph/ent/signingkey"
	"custgraph/internal/access"
)

// ownAlg is the JWS algorithm of custgraph's own tokens.
const ownAlg = "ES256"

// reloadInterval is the least time between two reloads of the database's
// signing keys on demand (an unknown kid, a JWKS request).
const reloadInterval = 10 * time.Second

// errUnknownKey refuses a token signed with a key custgraph does not have.
var errUnknownKey = errors.New("unknown signing key")

// GenerateKeyPEM returns a new EC P-256 private key in a PKCS#8 PEM block
// ("PRIVATE KEY"), fit for Config.KeyFiles.
func GenerateKeyPEM() ([]byte, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// publicJWK is a public key as published in the JWK Set (RFC 7517, 7518 §6.2).
type publicJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// ownKey is one of custgraph's signing keys.
type ownKey struct {
	priv *ecdsa.PrivateKey
	jwk  publicJWK
}

func (k ownKey) kid() string { return k.jwk.Kid }

// parseKey reads the first private key of PEM data: PKCS#8 ("PRIVATE KEY")
// or SEC 1 ("EC PRIVATE KEY"); other blocks (EC PARAMETERS, certificates)
// are skipped. The key must be an EC P-256 key.
func parseKey(data []byte) (ownKey, error) {
	for {
		var block *pem.Block
		if block, data = pem.Decode(data); block == nil {
			return ownKey{}, errors.New("no private key (PEM block PRIVATE KEY or EC PRIVATE KEY) found")
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return ownKey{}, errors.New("encrypted private keys are not supported")
		default:
			continue
		}
		if err != nil {
			return ownKey{}, fmt.Errorf("parsing the %s block: %w", block.Type, err)
		}
		ec, ok := key.(*ecdsa.PrivateKey)
		if !ok || ec.Curve != elliptic.P256() {
			return ownKey{}, fmt.Errorf("the key must be an EC P-256 key (%s), not a %T", ownAlg, key)
		}
		return newOwnKey(ec)
	}
}

// newOwnKey names priv by its RFC 7638 JWK thumbprint: the base64url
// SHA-256 of the required members in lexicographic order, without spaces.
func newOwnKey(priv *ecdsa.PrivateKey) (ownKey, error) {
	point, err := priv.PublicKey.Bytes() // 0x04 || X || Y, fixed-length coordinates
	if err != nil {
		return ownKey{}, err
	}
	n := (len(point) - 1) / 2
	b64 := base64.RawURLEncoding.EncodeToString
	jwk := publicJWK{Kty: "EC", Crv: "P-256", X: b64(point[1 : 1+n]), Y: b64(point[1+n:]), Alg: ownAlg, Use: "sig"}
	sum := sha256.Sum256([]byte(`{"crv":"` + jwk.Crv + `","kty":"` + jwk.Kty + `","x":"` + jwk.X + `","y":"` + jwk.Y + `"}`))
	jwk.Kid = b64(sum[:])
	return ownKey{priv: priv, jwk: jwk}, nil
}

// keyring holds custgraph's signing keys: keys[0] signs, all verify.
type keyring struct {
	keys atomic.Pointer[[]ownKey]
	db   *ent.Client // nil when the keys come from files and never change
	now  func() time.Time
	log  *slog.Logger

	mu       sync.Mutex // serializes reloads
	reloaded time.Time  // when the keys were last reloaded on demand
}

// newKeyring reads the key files or, when there are none, the database's
// keys, creating one if the table is empty.
func newKeyring(ctx context.Context, db *ent.Client, files []string, now func() time.Time, log *slog.Logger) (*keyring, error) {
	k := &keyring{now: now, log: log}
	var (
		keys []ownKey
		err  error
	)
	if len(files) > 0 {
		keys, err = readKeyFiles(files)
	} else {
		k.db = db
		if keys, err = loadKeys(ctx, db); err == nil && len(keys) == 0 {
			if err = createKey(ctx, db); err == nil {
				keys, err = loadKeys(ctx, db) // with the keys of replicas that raced us
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errors.New("no signing key")
	}
	k.keys.Store(&keys)
	return k, nil
}

func readKeyFiles(files []string) ([]ownKey, error) {
	keys := make([]ownKey, 0, len(files))
	seen := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("signing key: %w", err)
		}
		key, err := parseKey(data)
		if err != nil {
			return nil, fmt.Errorf("signing key %s: %w", f, err)
		}
		if other, dup := seen[key.kid()]; dup {
			return nil, fmt.Errorf("signing key %s: the same key as %s", f, other)
		}
		seen[key.kid()] = f
		keys = append(keys, key)
	}
	return keys, nil
}

// loadKeys reads the database's keys, oldest first: every replica signs
// with the same one.
func loadKeys(ctx context.Context, db *ent.Client) ([]ownKey, error) {
	rows, err := db.SigningKey.Query().
		Order(signingkey.ByCreatedAt(), signingkey.ByID()).
		All(access.System(ctx))
	if err != nil {
		return nil, fmt.Errorf("loading the signing keys: %w", err)
	}
	keys := make([]ownKey, 0, len(rows))
	for _, row := range rows {
		key, err := parseKey([]byte(row.PrivateKeyPem))
		if err == nil && key.kid() != row.Kid {
			err = fmt.Errorf("its thumbprint is %s", key.kid())
		}
		if err != nil {
			return nil, fmt.Errorf("signing key %s (row %s): %w", row.Kid, row.ID, err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}

func createKey(ctx context.Context, db *ent.Client) error {
	data, err := GenerateKeyPEM()
	if err != nil {
		return err
	}
	key, err := parseKey(data)
	if err != nil {
		return err
	}
	err = db.SigningKey.Create().SetKid(key.kid()).SetPrivateKeyPem(string(data)).Exec(access.System(ctx))
	if err != nil {
		return fmt.Errorf("storing a new signing key: %w", err)
	}
	return nil
}

// current returns the keys; the first signs.
func (k *keyring) current() []ownKey { return *k.keys.Load() }

func (k *keyring) signer() ownKey { return k.current()[0] }

func find(keys []ownKey, kid string) *ecdsa.PublicKey {
	for _, key := range keys {
		if key.kid() == kid {
			return &key.priv.PublicKey
		}
	}
	return nil
}

// publicKey returns the key that verifies tokens signed under kid. An
// unknown kid makes it reload the database's keys first (see refresh):
// another replica may have made the key.
func (k *keyring) publicKey(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	if pub := find(k.current(), kid); pub != nil {
		return pub, nil
	}
	if err := k.refresh(ctx); err != nil {
		return nil, err
	}
	if pub := find(k.current(), kid); pub != nil {
		return pub, nil
	}
	return nil, errUnknownKey
}

// refresh reloads the database's keys, unless the keys come from files or
// were reloaded less than reloadInterval ago. An empty table leaves the
// keys as they are: custgraph must keep signing.
func (k *keyring) refresh(ctx context.Context) error {
	if k.db == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if !k.reloaded.IsZero() && now.Sub(k.reloaded) < reloadInterval {
		return nil
	}
	k.reloaded = now
	keys, err := loadKeys(ctx, k.db)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		k.log.WarnContext(ctx, "no signing key left in the database; keeping the keys loaded before")
		return nil
	}
	k.keys.Store(&keys)
	return nil
}
