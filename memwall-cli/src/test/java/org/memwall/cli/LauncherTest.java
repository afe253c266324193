package org.memwall.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/memwall run by bash in a scratch checkout: a git repository holding the real launcher, a source
 * tree, and an {@code mvnw} that logs each build and "builds" a tiny jar printing its arguments. The
 * JDK is the one running this test.
 */
class LauncherTest {
    @TempDir
    Path repo;

    private final Path jdk = Path.of(System.getProperty("java.home"));
    private Path source;

    @BeforeEach
    void scratchCheckout() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/bash")) && Files.isExecutable(jdk.resolve("bin/javac")), "skipped: needs bash and a JDK");
        Path launcher = Path.of("").toAbsolutePath().resolveSibling("bin").resolve("memwall");
        Files.createDirectories(repo.resolve("bin"));
        executable(repo.resolve("bin/memwall"), Files.readString(launcher));
        Files.writeString(repo.resolve("pom.xml"), "<project/>\n");
        source = repo.resolve("memwall-cli/src/main/java/Echo.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, "public class Echo { public static void main(String[] a) { System.out.println(\"echo \" + String.join(\" \", a)); } }\n");
        Path built = repo.resolve("echo.jar");
        buildJar(source, built);
        executable(repo.resolve("mvnw"), """
                #!/usr/bin/env bash
                echo "$*" >> builds.log
                mkdir -p memwall-cli/target && cp echo.jar memwall-cli/target/memwall.jar
                """);
        Files.writeString(repo.resolve(".gitignore"), "target/\nbuilds.log\necho.jar\n");
        git("init", "-q");
        git("add", "-A");
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first");
    }

    @Test
    void buildsOnceThenRebuildsWhenASourceOrTheCommitChanges() throws Exception {
        Result first = launch(Map.of("JAVA_HOME", jdk.toString()), "run", "-p", "x");
        assertThat(first.out()).isEqualTo("echo run -p x\n");
        assertThat(first.err()).contains("memwall: building the jar (first run)");
        assertThat(builds()).isEqualTo(1);

        Result again = launch(Map.of("JAVA_HOME", jdk.toString()), "info");
        assertThat(again.out()).isEqualTo("echo info\n");
        assertThat(again.err()).doesNotContain("building");
        assertThat(builds()).isEqualTo(1);

        Files.setLastModifiedTime(source, FileTime.from(Instant.now().plusSeconds(5)));
        Result edited = launch(Map.of("JAVA_HOME", jdk.toString()), "info");
        assertThat(edited.err()).contains("building the jar (memwall-cli/src/main/java/Echo.java changed)");
        assertThat(builds()).isEqualTo(2);

        Files.setLastModifiedTime(source, FileTime.from(Instant.now().minusSeconds(3600)));
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "second");
        Result pulled = launch(Map.of("JAVA_HOME", jdk.toString()), "info");
        assertThat(pulled.err()).contains("building the jar (the checkout is now at commit");
        assertThat(builds()).isEqualTo(3);
        assertThat(launch(Map.of("JAVA_HOME", jdk.toString()), "info").err()).doesNotContain("building");
    }

    @Test
    void skipsAnOldJavaHomeAndPathAndFindsAJdkInTheInstallFolders() throws Exception {
        Path old = fakeJdk("java17", "17.0.9");
        Result r = launch(Map.of("JAVA_HOME", old.toString(), "PATH", old.resolve("bin") + ":" + System.getenv("PATH"),
                "MEMWALL_JDK_DIRS", jdk.getParent().toString()), "run");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("echo run\n");
    }

    @Test
    void withoutAJdk25SaysWhatWasFoundAndWhatToInstall() throws Exception {
        assumeTrue(!Files.exists(Path.of("/usr/libexec/java_home")), "skipped: macOS's java_home would find the JDK");
        Path old = fakeJdk("java21", "21.0.2");
        Result r = launch(Map.of("JAVA_HOME", old.toString(), "PATH", old.resolve("bin") + ":" + System.getenv("PATH"),
                "MEMWALL_JDK_DIRS", repo.resolve("none").toString()), "run");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).startsWith("memwall: needs a JDK 25 or newer; found only " + old + " (Java 21)")
                .contains("brew install --cask temurin@25").contains("apt install openjdk-25-jdk").contains("adoptium.net");
        assertThat(builds()).isZero();
    }

    /** A folder that looks like a JDK whose java reports {@code version}. */
    private Path fakeJdk(String name, String version) throws IOException {
        Path home = repo.resolve(name);
        Files.createDirectories(home.resolve("bin"));
        executable(home.resolve("bin/java"), "#!/bin/sh\necho '    java.specification.version = " + version.replaceFirst("\\..*", "") + "' >&2\n"
                + "echo 'openjdk version \"" + version + "\"' >&2\nexit 0\n");
        executable(home.resolve("bin/javac"), "#!/bin/sh\nexit 0\n");
        return home;
    }

    private record Result(int exitCode, String out, String err) {
    }

    private Result launch(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/bin/bash", repo.resolve("bin/memwall").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(repo.toFile());
        pb.environment().remove("JAVA_HOME");
        pb.environment().remove("MEMWALL_JDK_DIRS");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("launcher finished").isTrue();
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    private int builds() throws IOException {
        Path log = repo.resolve("builds.log");
        return Files.exists(log) ? Files.readAllLines(log).size() : 0;
    }

    private void git(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).directory(repo.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("git " + String.join(" ", args) + ": " + out).isZero();
    }

    private static void executable(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private static void buildJar(Path source, Path jar) throws IOException {
        Path classes = Files.createTempDirectory("echo-classes");
        int rc = ToolProvider.getSystemJavaCompiler().run(null, null, null, "-d", classes.toString(), source.toString());
        assertThat(rc).isZero();
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "Echo");
        try (OutputStream os = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(os, manifest)) {
            out.putNextEntry(new JarEntry("Echo.class"));
            out.write(Files.readAllBytes(classes.resolve("Echo.class")));
            out.closeEntry();
        }
    }
}
