package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// result is what cricheck prints.
type result struct {
	RuntimeName    string `json:"runtimeName"`
	RuntimeVersion string `json:"runtimeVersion"`
	SandboxID      string `json:"sandboxID"`
	SandboxState   string `json:"sandboxState"`
	PodIP          string `json:"podIP"`
	SandboxReadyMS int64  `json:"sandboxReadyMs"`
	ContainerID    string `json:"containerID"`
	ContainerState string `json:"containerState"`
	ContainerMS    int64  `json:"containerRunningMs"`
	Removed        bool   `json:"removed"`
}

func main() {
	socket := flag.String("socket", "/run/containerd/containerd.sock", "containerd socket")
	image := flag.String("image", "registry.kforge.dev/lab/pause:1", "image of the test container")
	timeout := flag.Duration("timeout", 60*time.Second, "overall timeout")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	r, err := run(ctx, *socket, *image)
	if r != nil {
		_ = json.NewEncoder(os.Stdout).Encode(r)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cricheck: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, socket, image string) (*result, error) {
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", socket, err)
	}
	defer conn.Close()
	rt := runtime.NewRuntimeServiceClient(conn)
	res := &result{}
	v, err := rt.Version(ctx, &runtime.VersionRequest{})
	if err != nil {
		return nil, fmt.Errorf("version: %w", err)
	}
	res.RuntimeName, res.RuntimeVersion = v.RuntimeName, v.RuntimeVersion

	uid := fmt.Sprintf("cricheck-%d", time.Now().UnixNano())
	sbCfg := &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: "cricheck", Uid: uid, Namespace: "default"},
		Hostname:     "cricheck",
		LogDirectory: "/var/log/pods/cricheck",
		Linux: &runtime.LinuxPodSandboxConfig{
			SecurityContext: &runtime.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtime.NamespaceOption{Network: runtime.NamespaceMode_POD},
			},
		},
	}
	t0 := time.Now()
	sb, err := rt.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: sbCfg})
	if err != nil {
		return res, fmt.Errorf("run pod sandbox: %w", err)
	}
	res.SandboxID = sb.PodSandboxId
	defer func() {
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer ccancel()
		_, e1 := rt.StopPodSandbox(cctx, &runtime.StopPodSandboxRequest{PodSandboxId: sb.PodSandboxId})
		_, e2 := rt.RemovePodSandbox(cctx, &runtime.RemovePodSandboxRequest{PodSandboxId: sb.PodSandboxId})
		res.Removed = e1 == nil && e2 == nil
	}()
	st, err := rt.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: sb.PodSandboxId})
	if err != nil {
		return res, fmt.Errorf("pod sandbox status: %w", err)
	}
	res.SandboxReadyMS = time.Since(t0).Milliseconds()
	res.SandboxState = st.Status.State.String()
	if st.Status.Network != nil {
		res.PodIP = st.Status.Network.Ip
	}

	c, err := rt.CreateContainer(ctx, &runtime.CreateContainerRequest{
		PodSandboxId:  sb.PodSandboxId,
		SandboxConfig: sbCfg,
		Config: &runtime.ContainerConfig{
			Metadata: &runtime.ContainerMetadata{Name: "pause"},
			Image:    &runtime.ImageSpec{Image: image},
			LogPath:  "pause.log",
		},
	})
	if err != nil {
		return res, fmt.Errorf("create container: %w", err)
	}
	res.ContainerID = c.ContainerId
	if _, err := rt.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: c.ContainerId}); err != nil {
		return res, fmt.Errorf("start container: %w", err)
	}
	cs, err := rt.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: c.ContainerId})
	if err != nil {
		return res, fmt.Errorf("container status: %w", err)
	}
	res.ContainerMS = time.Since(t0).Milliseconds()
	res.ContainerState = cs.Status.State.String()
	if _, err := rt.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: c.ContainerId, Timeout: 5}); err != nil {
		return res, fmt.Errorf("stop container: %w", err)
	}
	if _, err := rt.RemoveContainer(ctx, &runtime.RemoveContainerRequest{ContainerId: c.ContainerId}); err != nil {
		return res, fmt.Errorf("remove container: %w", err)
	}
	return res, nil
}
