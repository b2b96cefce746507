// Command pulumi-language-python runs a Pulumi Python program for the engine: this repository's
// stand-in for Pulumi's own Python language host.
//
// Pulumi's host lives in its own Go module (github.com/pulumi/pulumi/sdk/python/cmd/
// pulumi-language-python/v3), which is not tagged and which the module proxy here does not
// serve at any version (docs/developing.md, "The engine"). This host does what `pulumi preview`,
// `up`, `refresh`, `destroy` and `import` need from one, with Pulumi's own pieces: the
// toolchain package (virtualenv resolution and the python command, the same code the real host
// uses), the gRPC protocol, and the executor script pulumi-language-python-exec from the sdk
// module, installed beside this binary by `make engine`. It reads `runtime.options.virtualenv`
// from Pulumi.yaml (and a policy pack's PulumiPolicy.yaml) as the real host does; it never
// creates or installs a virtualenv (`make venv` does).
//
// It also runs Python policy packs (`pulumi preview --policy-pack DIR`): the engine asks the
// language host named by the pack's runtime to RunPlugin the pack as an analyzer.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

const (
	executorName = "pulumi-language-python-exec"
	// The executor exits with this code after it has shown the user an actionable message
	// (a RunError: for us, a stack config error naming the key): the engine then prints no
	// second error of its own.
	exitAfterUserMessage = 32
)

func main() {
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.String("tracing", "", "accepted for the engine's sake; tracing is not supported")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	self, err := os.Executable()
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not determine this executable: %w", err))
	}
	executor := filepath.Join(filepath.Dir(self), executorName)
	if _, err := os.Stat(executor); err != nil {
		cmdutil.Exit(fmt.Errorf("missing executor %s (make engine installs it): %w", executor, err))
	}
	host := &languageHost{executor: executor}
	if args := flag.Args(); len(args) > 0 {
		host.engineAddress = args[0]
	}
	cancel := make(chan bool)
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host's gRPC server: %w", err))
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host stopped serving: %w", err))
	}
}

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	executor      string
	engineAddress string

	mu      sync.Mutex
	running map[*exec.Cmd]struct{} // programs to interrupt on Cancel
}

// toolchainFor resolves the Python toolchain of the project described by info, reading the
// runtime options of Pulumi.yaml (virtualenv, toolchain) as Pulumi's host does.
func toolchainFor(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	opts := toolchain.PythonOptions{Root: info.GetRootDirectory(), ProgramDir: info.GetProgramDirectory()}
	options := info.GetOptions().AsMap()
	if value, ok := options["virtualenv"]; ok {
		path, isString := value.(string)
		if !isString {
			return nil, errors.New("Pulumi.yaml: runtime.options.virtualenv must be a string")
		}
		opts.Virtualenv = path
	}
	if value, ok := options["toolchain"]; ok && value != "pip" {
		return nil, fmt.Errorf("Pulumi.yaml: runtime.options.toolchain %v is not supported by this "+
			"language host (pip only)", value)
	}
	if _, ok := options["typechecker"]; ok {
		return nil, errors.New("Pulumi.yaml: runtime.options.typechecker is not supported by this " +
			"language host; the repository type-checks with `make typecheck`")
	}
	opts.Toolchain = toolchain.Pip
	tc, err := toolchain.ResolveToolchain(opts)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(context.Background()); err != nil {
		return nil, fmt.Errorf("%w (create it with `make venv`)", err)
	}
	return tc, nil
}

func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	h.engineAddress = req.GetEngineAddress()
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// pluginManifests lists every installed distribution's pulumi-plugin.json: how a Pulumi
// provider SDK (pulumi_minio, pulumi_random) names the plugin it needs.
//
// A distribution whose RECORD does not name the file is passed over before its RECORD is parsed
// into paths: parsing every RECORD of a full virtualenv was most of this scan's 0.2 s, paid on
// every preview and update.
const pluginManifests = `import importlib.metadata as md, json
found = []
for dist in md.distributions():
    record = dist.read_text("RECORD")
    if record is not None and "pulumi-plugin.json" not in record:
        continue
    for path in dist.files or ():
        if path.name == "pulumi-plugin.json":
            found.append({"package": dist.metadata["Name"], "version": dist.version,
                          "manifest": json.loads(path.read_text())})
print(json.dumps(found))`

type manifest struct {
	Package  string `json:"package"`
	Version  string `json:"version"`
	Manifest struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"manifest"`
}

func (h *languageHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	tc, err := toolchainFor(req.GetInfo())
	if err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", pluginManifests)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing the installed Pulumi packages: %w", err)
	}
	var manifests []manifest
	if err := json.Unmarshal(out, &manifests); err != nil {
		return nil, fmt.Errorf("reading the installed Pulumi packages: %w", err)
	}
	packages := []*pulumirpc.PackageDependency{}
	for _, m := range manifests {
		if !m.Manifest.Resource {
			continue
		}
		name := m.Manifest.Name
		if name == "" {
			name = strings.TrimPrefix(m.Package, "pulumi-")
		}
		pluginVersion := m.Manifest.Version
		if pluginVersion == "" {
			pluginVersion = m.Version
		}
		packages = append(packages, &pulumirpc.PackageDependency{
			Name:    name,
			Kind:    "resource",
			Version: "v" + strings.TrimPrefix(pluginVersion, "v"),
			Server:  m.Manifest.Server,
		})
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: packages}, nil
}

// executorArguments are the executor's flags, as Pulumi's host passes them.
func (h *languageHost) executorArguments(req *pulumirpc.RunRequest) []string {
	args := []string{h.executor}
	add := func(flag, value string) {
		if value != "" {
			args = append(args, "--"+flag, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("root_directory", req.GetInfo().GetRootDirectory())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("organization", req.GetOrganization())
	args = append(args, req.GetInfo().GetEntryPoint())
	return append(args, req.GetArgs()...)
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	if h.engineAddress == "" {
		return nil, errors.New("the engine's address is unknown: it is passed at start or by Handshake")
	}
	tc, err := toolchainFor(req.GetInfo())
	if err != nil {
		return nil, err
	}
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("serialising the stack config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secrets, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serialising the stack config's secret keys: %w", err)
	}
	cmd, err := tc.Command(ctx, h.executorArguments(req)...)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	env := cmd.Env
	if env == nil {
		env = os.Environ()
	}
	cmd.Env = append(env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secrets))
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second

	if err := cmd.Start(); err != nil {
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run the executor: %v", err)}, nil
	}
	h.track(cmd, true)
	err = cmd.Wait()
	h.track(cmd, false)
	if err == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if status, ok := exitErr.Sys().(syscall.WaitStatus); ok && status.ExitStatus() == exitAfterUserMessage {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("program exited with non-zero exit code: %d",
			exitErr.ExitCode())}, nil
	}
	return &pulumirpc.RunResponse{Error: fmt.Sprintf("program failed: %v", err)}, nil
}

func (h *languageHost) track(cmd *exec.Cmd, running bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running == nil {
		h.running = map[*exec.Cmd]struct{}{}
	}
	if running {
		h.running[cmd] = struct{}{}
	} else {
		delete(h.running, cmd)
	}
}

// Cancel interrupts the running programs (the engine calls it on Ctrl-C).
func (h *languageHost) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for cmd := range h.running {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(os.Interrupt)
		}
	}
	return &emptypb.Empty{}, nil
}

// aboutPython prints the interpreter's path and version, one per line.
const aboutPython = `import platform, sys
print(sys.executable)
print(platform.python_version())`

// About answers with the program's interpreter and its version. The engine asks on every
// preview and update; the toolchain's own About starts three interpreters for it (one of them
// `pip --version`, whose answer this host does not report), so one interpreter answers both.
func (h *languageHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, err := toolchainFor(req.GetInfo())
	if err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", aboutPython)
	if err != nil {
		return nil, err
	}
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("asking the program's Python for its path and version: %w", err)
	}
	executable, pythonVersion, found := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if !found {
		return nil, fmt.Errorf("unexpected answer from the program's Python: %q", out)
	}
	return &pulumirpc.AboutResponse{
		Executable: executable,
		Version:    pythonVersion,
		Metadata:   map[string]string{"toolchain": "pip", "languageHost": "voice-recordings stand-in"},
	}, nil
}

func (h *languageHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := toolchainFor(req.GetInfo())
	if err != nil {
		return nil, err
	}
	found, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, fmt.Errorf("listing the program's Python packages: %w", err)
	}
	deps := make([]*pulumirpc.DependencyInfo, 0, len(found))
	for _, dep := range found {
		deps = append(deps, &pulumirpc.DependencyInfo{Name: dep.Name, Version: dep.Version})
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

// RunPlugin runs a Python policy pack as the engine's analyzer; other plugin kinds are not
// supported (this repository has no Python provider plugins).
//
// pulumi-policy reads the stack's identity and config from the environment (PULUMI_CONFIG ...),
// while the engine sends them over gRPC (ConfigureStack) to whatever analyzer answers first. So,
// as Pulumi's own host does, the stream's first stdout line is the port of Pulumi's PolicyProxy
// (sdk/v3): it takes the engine's Handshake and ConfigureStack, the pack is then started with that
// config in its environment (`python -u -m pulumi.policy <engine> <pack dir>`, in the pack's
// directory), and the proxy forwards every later request to the pack's own server.
func (h *languageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	if req.GetKind() != string(apitype.AnalyzerPlugin) {
		return status.Errorf(codes.Unimplemented,
			"this language host runs policy packs (analyzer plugins) only, not %q plugins", req.GetKind())
	}
	ctx := server.Context()
	tc, err := toolchainFor(req.GetInfo())
	if err != nil {
		return err
	}
	packDir := req.GetInfo().GetProgramDirectory()
	args := append([]string{"-u", "-m", "pulumi.policy"}, req.GetArgs()...)
	cmd, err := tc.Command(ctx, append(args, packDir)...)
	if err != nil {
		return err
	}
	cmd.Dir = packDir
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}

	streams, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer streams.Close()
	proxy, packStdout, err := sdk.NewPolicyProxy(ctx, stdout)
	if err != nil {
		return fmt.Errorf("could not start the policy pack proxy: %w", err)
	}
	stack, err := proxy.AwaitConfiguration(ctx)
	if err != nil {
		return fmt.Errorf("waiting for the engine's stack configuration: %w", err)
	}
	if stack != nil { // nil when the engine asks something before configuring (policy publish)
		config, err := json.Marshal(stack.GetConfig())
		if err != nil {
			return fmt.Errorf("serialising the stack config: %w", err)
		}
		for name, value := range map[string]string{
			"PULUMI_PROJECT":      stack.GetProject(),
			"PULUMI_STACK":        stack.GetStack(),
			"PULUMI_ORGANIZATION": stack.GetOrganization(), // empty on a local backend: then unset
			"PULUMI_DRY_RUN":      strconv.FormatBool(stack.GetDryRun()),
			"PULUMI_CONFIG":       string(config),
		} {
			if value != "" {
				cmd.Env = append(cmd.Env, name+"="+value)
			}
		}
	}
	cmd.Env = append(cmd.Env, req.GetEnv()...)
	cmd.Stdout, cmd.Stderr = packStdout, stderr

	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not start the policy pack: %w", err)
	}
	// Attach reads the pack's port, forwards the stack configuration and returns when it exits.
	if err := proxy.Attach(ctx, cmd); err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return server.Send(&pulumirpc.RunPluginResponse{
				Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(exitErr.ExitCode())},
			})
		}
		return fmt.Errorf("policy pack %s: %w", packDir, err)
	}
	return streams.Close()
}
