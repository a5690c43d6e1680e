"""CPython's rules as cpmatrix knows them: switches, versions, toolchains, combinations."""

from __future__ import annotations

import pytest

from cpmatrix import features as fx
from cpmatrix.features import Feature, Version

V313, V314, V315, V316 = (Version.parse(v) for v in ("3.13.5", "3.14.5", "3.15.0", "3.16.0"))
F = Feature


def fs(*features: Feature) -> frozenset[Feature]:
    return frozenset(features)


class TestVersion:
    def test_parse_release_and_series(self) -> None:
        assert Version.parse("3.13.5") == Version(3, 13, 5)
        assert Version.parse("3.13").series == Version(3, 13)
        assert str(Version.parse("3.10")) == "3.10"

    def test_order_puts_series_before_its_releases(self) -> None:
        assert Version(3, 13) < Version(3, 13, 0) < Version(3, 13, 5) < Version(3, 14)

    @pytest.mark.parametrize("text", ["3", "three", "3.13.5.1", ""])
    def test_rejects_non_versions(self, text: str) -> None:
        with pytest.raises(ValueError, match="not a CPython version"):
            Version.parse(text)


class TestVariantNames:
    def test_canonical_order_is_declaration_order(self) -> None:
        assert fx.variant_name([F.TAILCALL, F.FREETHREADED]) == "freethreaded+tailcall"
        assert fx.variant_name([F.NOREMOTEDEBUG, F.JIT, F.TAILCALL]) == "jit+tailcall+noremotedebug"

    def test_empty_set_is_default(self) -> None:
        assert fx.variant_name([]) == "default"


class TestWhyImpossible:
    @pytest.mark.parametrize("feature", [F.TAILCALL, F.NOREMOTEDEBUG])
    def test_314_only_switches_refused_on_313(self, feature: Feature) -> None:
        reason = fx.why_impossible(V313, fs(feature), "linux", "release")
        assert reason is not None
        assert f"{feature} needs CPython 3.14+" in reason
        assert fx.why_impossible(V314, fs(feature), "linux", "release") is None

    @pytest.mark.parametrize("feature", [F.FREETHREADED, F.JIT, F.JIT_OFF, F.JIT_INTERPRETER])
    def test_313_switches_available_on_313(self, feature: Feature) -> None:
        assert fx.why_impossible(V313, fs(feature), "linux", "release") is None

    @pytest.mark.parametrize("mode", [F.JIT, F.JIT_OFF, F.JIT_INTERPRETER])
    def test_any_jit_mode_with_freethreaded_is_refused(self, mode: Feature) -> None:
        reason = fx.why_impossible(V314, fs(mode, F.FREETHREADED), "linux", "release")
        assert reason is not None
        assert "GH-133171" in reason

    def test_two_jit_modes_are_refused(self) -> None:
        reason = fx.why_impossible(V314, fs(F.JIT, F.JIT_OFF), "linux", "release")
        assert reason == "jit and jit-off are different JIT modes; choose one"

    def test_jit_needs_a_known_llvm(self) -> None:
        reason = fx.why_impossible(Version(3, 17, 0), fs(F.JIT), "linux", "release")
        assert reason is not None and "which LLVM" in reason
        # the interpreter mode emits no machine code and needs no LLVM
        assert (
            fx.why_impossible(Version(3, 17, 0), fs(F.JIT_INTERPRETER), "linux", "release") is None
        )

    def test_windows_tailcall_315_is_release_only(self) -> None:
        assert fx.why_impossible(V315, fs(F.TAILCALL), "windows", "debug") is not None
        assert fx.why_impossible(V315, fs(F.TAILCALL), "windows", "release") is None
        assert fx.why_impossible(V314, fs(F.TAILCALL), "windows", "debug") is None
        assert fx.why_impossible(V315, fs(F.TAILCALL), "linux", "debug") is None


class TestConfigure:
    def test_every_configure_fails_on_unknown_options(self) -> None:
        for features in (fs(), fs(F.JIT), fs(F.FREETHREADED, F.TAILCALL)):
            args = fx.configure_arguments(V314, features, "release")
            assert args[0] == "--enable-option-checking=fatal"

    @pytest.mark.parametrize(
        ("feature", "switch"),
        [
            (F.FREETHREADED, "--disable-gil"),
            (F.JIT, "--enable-experimental-jit=yes"),
            (F.JIT_OFF, "--enable-experimental-jit=yes-off"),
            (F.JIT_INTERPRETER, "--enable-experimental-jit=interpreter"),
            (F.TAILCALL, "--with-tail-call-interp"),
            (F.NOREMOTEDEBUG, "--without-remote-debug"),
        ],
    )
    def test_each_feature_switch(self, feature: Feature, switch: str) -> None:
        assert switch in fx.configure_arguments(V315, fs(feature), "release")

    def test_freethreaded_requires_mimalloc_loudly(self) -> None:
        assert "--with-mimalloc" in fx.configure_arguments(V313, fs(F.FREETHREADED), "release")
        assert "--with-mimalloc" not in fx.configure_arguments(V313, fs(), "release")

    def test_profiles(self) -> None:
        assert fx.configure_arguments(V313, fs(), "release") == ("--enable-option-checking=fatal",)
        optimized = fx.configure_arguments(V313, fs(), "optimized")
        assert optimized[-2:] == ("--enable-optimizations", "--with-lto")
        assert fx.configure_arguments(V313, fs(), "debug")[-1] == "--with-pydebug"

    def test_combination_is_in_canonical_order(self) -> None:
        args = fx.configure_arguments(V314, fs(F.TAILCALL, F.FREETHREADED), "optimized")
        assert args == (
            "--enable-option-checking=fatal",
            "--disable-gil",
            "--with-tail-call-interp",
            "--with-mimalloc",
            "--enable-optimizations",
            "--with-lto",
        )


class TestBuildBat:
    def test_plain_release_x64(self) -> None:
        assert fx.buildbat_arguments(V313, fs(), "release", "x64") == ("-p", "x64", "-c", "Release")

    def test_debug_arm64(self) -> None:
        assert fx.buildbat_arguments(V313, fs(), "debug", "ARM64") == ("-p", "ARM64", "-c", "Debug")

    def test_optimized_is_pgo(self) -> None:
        assert "--pgo" in fx.buildbat_arguments(V313, fs(), "optimized", "x64")

    @pytest.mark.parametrize(
        ("feature", "switch"),
        [
            (F.FREETHREADED, "--disable-gil"),
            (F.JIT, "--experimental-jit"),
            (F.JIT_OFF, "--experimental-jit-off"),
            (F.JIT_INTERPRETER, "--experimental-jit-interpreter"),
            (F.TAILCALL, "--tail-call-interp"),
            (F.NOREMOTEDEBUG, "--without-remote-debug"),
        ],
    )
    def test_each_feature_switch(self, feature: Feature, switch: str) -> None:
        assert switch in fx.buildbat_arguments(V315, fs(feature), "release", "x64")

    def test_tailcall_uses_clangcl_on_314_and_msvc_on_315(self) -> None:
        assert "/p:PlatformToolset=ClangCL" in fx.buildbat_arguments(
            V314, fs(F.TAILCALL), "release", "x64"
        )
        assert "/p:PlatformToolset=ClangCL" not in fx.buildbat_arguments(
            V315, fs(F.TAILCALL), "release", "x64"
        )
        assert "VS 2026" in fx.windows_toolset(V315, fs(F.TAILCALL))
        assert "ClangCL" in fx.windows_toolset(V314, fs(F.TAILCALL))


class TestToolchain:
    @pytest.mark.parametrize(("version", "major"), [(V313, 18), (V314, 19), (V315, 21), (V316, 21)])
    def test_one_llvm_major_per_minor(self, version: Version, major: int) -> None:
        assert fx.llvm_major_for(version) == major
        chain = fx.posix_toolchain(version, fs(F.JIT), "linux")
        assert chain.llvm_major == major
        commands = [tool.command for tool in chain.tools]
        assert f"clang-{major}" in commands
        assert f"llvm-readobj-{major}" in commands
        assert "python3" in commands

    def test_macos_hint_is_homebrew(self) -> None:
        chain = fx.posix_toolchain(V313, fs(F.JIT_OFF), "macos")
        assert chain.brew_formula == "llvm@18"
        assert fx.posix_toolchain(V313, fs(F.JIT_OFF), "linux").brew_formula is None

    def test_llvm_version_env_from_315(self) -> None:
        assert ("LLVM_VERSION", "21") in fx.posix_toolchain(V315, fs(F.JIT), "linux").env
        assert fx.posix_toolchain(V314, fs(F.JIT), "linux").env == ()

    def test_jit_interpreter_needs_no_llvm(self) -> None:
        chain = fx.posix_toolchain(V314, fs(F.JIT_INTERPRETER), "linux")
        assert chain.llvm_major is None and chain.tools == ()

    def test_tailcall_needs_clang_19_or_newer(self) -> None:
        assert fx.posix_toolchain(V314, fs(F.TAILCALL), "linux").cc == "clang-19"
        # with the JIT on 3.15 one clang serves both: LLVM 21
        assert fx.posix_toolchain(V315, fs(F.JIT, F.TAILCALL), "linux").cc == "clang-21"

    def test_default_build_needs_nothing_special(self) -> None:
        chain = fx.posix_toolchain(V313, fs(), "linux")
        assert chain.cc is None and chain.tools == ()

    def test_windows_has_no_posix_toolchain(self) -> None:
        with pytest.raises(ValueError, match="PCbuild"):
            fx.posix_toolchain(V313, fs(), "windows")


def test_abiflags_and_tailcall_macro() -> None:
    assert fx.abiflags(fs(F.FREETHREADED), "release") == "t"
    assert fx.abiflags(fs(F.FREETHREADED), "debug") == "td"
    assert fx.abiflags(fs(F.JIT), "release") == ""
    assert fx.tailcall_macro(V314) == "Py_TAIL_CALL_INTERP"
    assert fx.tailcall_macro(V315) == "_Py_TAIL_CALL_INTERP"


def test_every_feature_is_described() -> None:
    for feature in Feature:
        assert fx.describe(feature)
