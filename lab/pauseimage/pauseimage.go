package pauseimage

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Ref is the image reference the archive carries and containerd's sandbox_image must name.
const Ref = "registry.kforge.dev/lab/pause:1"

// baseAddr is where the ELF is loaded; the program header maps the whole file there.
const baseAddr = 0x400000

// headerSize is the ELF header (64 bytes) plus one program header (56 bytes); code follows it.
const headerSize = 64 + 56

// code is the x86-64 program, position independent except for the sigaction record appended to it:
//
//	_start:  mov edi, 15 ; call setsig        SIGTERM -> handler
//	         mov edi, 2  ; call setsig        SIGINT  -> handler
//	1:       mov eax, 34 ; syscall ; jmp 1b   pause() forever
//	setsig:  lea rsi, [rip+act] ; xor edx, edx ; mov r10d, 8
//	         mov eax, 13 ; syscall ; ret      rt_sigaction(edi, &act, NULL, 8)
//	handler: xor edi, edi ; mov eax, 231 ; syscall   exit_group(0)
//	         nop (padding to 8 bytes)
//	act:     struct kernel_sigaction (appended by ELF)
func code() []byte {
	return []byte{
		0xbf, 0x0f, 0x00, 0x00, 0x00, // mov edi, 15
		0xe8, 0x13, 0x00, 0x00, 0x00, // call setsig
		0xbf, 0x02, 0x00, 0x00, 0x00, // mov edi, 2
		0xe8, 0x09, 0x00, 0x00, 0x00, // call setsig
		0xb8, 0x22, 0x00, 0x00, 0x00, // mov eax, 34 (pause)
		0x0f, 0x05, // syscall
		0xeb, 0xf7, // jmp back to mov eax, 34
		0x48, 0x8d, 0x35, 0x1c, 0x00, 0x00, 0x00, // setsig: lea rsi, [rip+0x1c] (act)
		0x31, 0xd2, // xor edx, edx
		0x41, 0xba, 0x08, 0x00, 0x00, 0x00, // mov r10d, 8
		0xb8, 0x0d, 0x00, 0x00, 0x00, // mov eax, 13 (rt_sigaction)
		0x0f, 0x05, // syscall
		0xc3,       // ret
		0x31, 0xff, // handler: xor edi, edi
		0xb8, 0xe7, 0x00, 0x00, 0x00, // mov eax, 231 (exit_group)
		0x0f, 0x05, // syscall
		0x0f, 0x1f, 0x00, // nop
	}
}

// handlerOffset is the handler's offset in code; actOffset is where the sigaction record starts.
const (
	handlerOffset = 0x34
	actOffset     = 0x40
	saRestorer    = 0x04000000
)

// ELF returns the pause program for GOARCH arch. It waits in pause(2) and exits 0 on SIGTERM or
// SIGINT; as PID 1 of a pod sandbox it holds the namespaces the pod's containers join.
func ELF(arch string) ([]byte, error) {
	if arch != "amd64" {
		return nil, fmt.Errorf("pause image: architecture %q is not supported; lab machines need an amd64 host", arch)
	}
	prog := code()
	if len(prog) != actOffset {
		return nil, fmt.Errorf("pause image: code is %d bytes, want %d", len(prog), actOffset)
	}
	handler := uint64(baseAddr + headerSize + handlerOffset)
	var body bytes.Buffer
	body.Write(prog)
	// struct kernel_sigaction { handler; flags; restorer; mask } — x86-64 requires SA_RESTORER; the
	// handler never returns, so the restorer is never used and may point at the handler.
	for _, v := range []uint64{handler, saRestorer, handler, 0} {
		_ = binary.Write(&body, binary.LittleEndian, v)
	}
	size := uint64(headerSize + body.Len())

	var f bytes.Buffer
	le := binary.LittleEndian
	// ELF header.
	f.Write([]byte{0x7f, 'E', 'L', 'F', 2 /* 64-bit */, 1 /* little endian */, 1 /* version */, 0 /* SysV */})
	f.Write(make([]byte, 8))
	_ = binary.Write(&f, le, uint16(2))                       // e_type: ET_EXEC
	_ = binary.Write(&f, le, uint16(0x3e))                    // e_machine: x86-64
	_ = binary.Write(&f, le, uint32(1))                       // e_version
	_ = binary.Write(&f, le, uint64(baseAddr+headerSize))     // e_entry
	_ = binary.Write(&f, le, uint64(64))                      // e_phoff
	_ = binary.Write(&f, le, uint64(0))                       // e_shoff
	_ = binary.Write(&f, le, uint32(0))                       // e_flags
	_ = binary.Write(&f, le, []uint16{64, 56, 1, 64, 0, 0})   // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
	_ = binary.Write(&f, le, []uint32{1, 5})                  // p_type PT_LOAD, p_flags R+X
	_ = binary.Write(&f, le, []uint64{0, baseAddr, baseAddr}) // p_offset, p_vaddr, p_paddr
	_ = binary.Write(&f, le, []uint64{size, size, 0x1000})    // p_filesz, p_memsz, p_align
	f.Write(body.Bytes())
	return f.Bytes(), nil
}

// epoch is the fixed timestamp of every archive entry, so the archive is byte-for-byte reproducible.
func epoch() time.Time { return time.Unix(0, 0).UTC() }

// WriteArchive writes a docker-archive image (the `docker save` layout that `ctr images import`
// reads) named ref with one layer holding /pause, for GOARCH arch. The output is deterministic.
func WriteArchive(w io.Writer, ref, arch string) error {
	bin, err := ELF(arch)
	if err != nil {
		return err
	}
	var layer bytes.Buffer
	if err := writeTar(&layer, []tarFile{{name: "pause", mode: 0o755, data: bin}}); err != nil {
		return fmt.Errorf("pause image: layer: %w", err)
	}
	layerSum := sha256.Sum256(layer.Bytes())
	layerHex := hex.EncodeToString(layerSum[:])
	cfg, err := json.Marshal(map[string]any{
		"architecture": arch,
		"os":           "linux",
		"created":      epoch().Format(time.RFC3339),
		"config":       map[string]any{"Entrypoint": []string{"/pause"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerHex}},
		"history":      []map[string]any{{"created": epoch().Format(time.RFC3339), "created_by": "kforge lab pause image"}},
	})
	if err != nil {
		return fmt.Errorf("pause image: config: %w", err)
	}
	cfgSum := sha256.Sum256(cfg)
	cfgName := hex.EncodeToString(cfgSum[:]) + ".json"
	layerName := layerHex + "/layer.tar"
	manifest, err := json.Marshal([]map[string]any{{
		"Config":   cfgName,
		"RepoTags": []string{ref},
		"Layers":   []string{layerName},
	}})
	if err != nil {
		return fmt.Errorf("pause image: manifest: %w", err)
	}
	return writeTar(w, []tarFile{
		{name: cfgName, mode: 0o644, data: cfg},
		{name: layerHex + "/", mode: 0o755, dir: true},
		{name: layerName, mode: 0o644, data: layer.Bytes()},
		{name: "manifest.json", mode: 0o644, data: manifest},
	})
}

type tarFile struct {
	name string
	mode int64
	data []byte
	dir  bool
}

func writeTar(w io.Writer, files []tarFile) error {
	tw := tar.NewWriter(w)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: epoch(), Format: tar.FormatPAX, Typeflag: tar.TypeReg}
		if f.dir {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	return tw.Close()
}
