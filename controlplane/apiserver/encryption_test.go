package apiserver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clientv3 "go.etcd.io/etcd/client/v3"

	"kforge.dev/kforge/controlplane/apiserver"
	"kforge.dev/kforge/controlplane/apiserver/apiservertest"
	"kforge.dev/kforge/controlplane/storage/encryption"
)

func encryptionConfig(t testing.TB, providers string) *encryption.Config {
	t.Helper()
	cfg, err := encryption.ParseConfig([]byte("apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n" + providers))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func aescbcKey(name, secret string) string {
	return fmt.Sprintf("  - aescbc:\n      keys:\n      - name: %s\n        secret: %s\n", name, base64.StdEncoding.EncodeToString([]byte(secret)))
}

// TestSecretsEncryptedAtRest: with an EncryptionConfiguration, Secrets are ciphertext in etcd
// and plaintext through the API; rotating to a new key and rewriting every Secret (kubectl get
// secrets -A -o json | kubectl replace -f -) moves them all to the new key, losing none.
func TestSecretsEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	key1, key2 := aescbcKey("key1", "0123456789abcdef0123456789abcdef"), aescbcKey("key2", "fedcba9876543210fedcba9876543210")
	identity := "  - identity: {}\n"

	// A cluster that started without encryption has a plaintext Secret.
	plain := apiservertest.Start(t, apiserver.APIOptions{})
	mustCreate(t, "old secret")(plain.Clientset(t).CoreV1().Secrets("default").Create(ctx, secretWith("before-encryption", "old"), metav1.CreateOptions{}))
	raw := func(name string) string {
		t.Helper()
		resp, err := plain.Etcd.Client.Get(ctx, "/registry/secrets/default/"+name)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("etcd get %s: %v", name, err)
		}
		return string(resp.Kvs[0].Value)
	}
	if !strings.Contains(raw("before-encryption"), `"value":"b2xk"`) && !strings.Contains(raw("before-encryption"), "b2xk") {
		t.Fatalf("plaintext secret not stored as JSON: %.80q", raw("before-encryption"))
	}

	// Step 1: aescbc key1 writes, identity still reads the old plaintext.
	a := apiservertest.StartWith(t, apiservertest.Options{Etcd: plain.Etcd, PKIDir: plain.PKIDir,
		API: apiserver.APIOptions{Encryption: encryptionConfig(t, key1+identity)}})
	ca := a.Clientset(t)
	for i := 0; i < 20; i++ {
		mustCreate(t, "secret")(ca.CoreV1().Secrets("default").Create(ctx, secretWith(fmt.Sprintf("s%02d", i), fmt.Sprintf("value-%d", i)), metav1.CreateOptions{}))
	}
	mustCreate(t, "configmap")(ca.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}, Data: map[string]string{"k": "visible"}}, metav1.CreateOptions{}))
	if v := raw("s07"); !strings.HasPrefix(v, "k8s:enc:aescbc:v1:key1:") || strings.Contains(v, "value-7") {
		t.Errorf("etcd holds %.60q, want ciphertext with the k8s:enc:aescbc:v1:key1: prefix", v)
	}
	if resp, _ := plain.Etcd.Client.Get(ctx, "/registry/configmaps/default/cm"); !strings.Contains(string(resp.Kvs[0].Value), "visible") {
		t.Errorf("configmaps are not in the configuration and must stay plaintext")
	}
	if s, err := ca.CoreV1().Secrets("default").Get(ctx, "s07", metav1.GetOptions{}); err != nil || string(s.Data["k"]) != "value-7" {
		t.Errorf("read through the API: %v %q", err, s.Data)
	}
	if s, err := ca.CoreV1().Secrets("default").Get(ctx, "before-encryption", metav1.GetOptions{}); err != nil || string(s.Data["k"]) != "old" {
		t.Errorf("old plaintext secret through identity: %v", err)
	}

	// Step 2: key2 first, key1 kept for reading; rewrite every Secret.
	b := apiservertest.StartWith(t, apiservertest.Options{Etcd: plain.Etcd, PKIDir: plain.PKIDir,
		API: apiserver.APIOptions{Encryption: encryptionConfig(t, key2+key1+identity)}})
	rewriteAllSecrets(t, b)
	resp, err := plain.Etcd.Client.Get(ctx, "/registry/secrets/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, kv := range resp.Kvs {
		if !bytes.HasPrefix(kv.Value, []byte("k8s:enc:aescbc:v1:key2:")) {
			t.Errorf("%s still under %.24q after the rewrite", kv.Key, kv.Value)
		}
		n++
	}
	if n != 21 {
		t.Errorf("%d secrets in etcd, want 21", n)
	}

	// Step 3: key1 and identity removed; every Secret still reads.
	c := apiservertest.StartWith(t, apiservertest.Options{Etcd: plain.Etcd, PKIDir: plain.PKIDir,
		API: apiserver.APIOptions{Encryption: encryptionConfig(t, key2)}})
	list, err := c.Clientset(t).CoreV1().Secrets("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range list.Items {
		got[s.Name] = string(s.Data["k"])
	}
	for i := 0; i < 20; i++ {
		if v := got[fmt.Sprintf("s%02d", i)]; v != fmt.Sprintf("value-%d", i) {
			t.Errorf("after rotation s%02d = %q", i, v)
		}
	}
	if got["before-encryption"] != "old" {
		t.Errorf("after rotation the formerly plaintext secret = %q", got["before-encryption"])
	}
}

func secretWith(name, value string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string][]byte{"k": []byte(value)}}
}

// rewriteAllSecrets is the documented rotation step, with the real kubectl when it is here and
// client-go otherwise: every Secret is written back unchanged, which stores it under the
// current write key.
func rewriteAllSecrets(t *testing.T, s *apiservertest.Server) {
	t.Helper()
	if k, err := exec.LookPath("kubectl"); err == nil {
		kc := s.Kubeconfig(t, t.TempDir())
		cmd := exec.Command("sh", "-c", k+" --kubeconfig "+kc+" get secrets --all-namespaces -o json | "+k+" --kubeconfig "+kc+" replace -f -")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl get | replace: %v\n%s", err, out)
		}
		if c := strings.Count(string(out), "replaced"); c != 21 {
			t.Errorf("kubectl replace reported %d replaced, want 21:\n%s", c, out)
		}
		return
	}
	ctx := context.Background()
	cs := s.Clientset(t)
	list, err := cs.CoreV1().Secrets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range list.Items {
		if _, err := cs.CoreV1().Secrets(list.Items[i].Namespace).Update(ctx, &list.Items[i], metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}
