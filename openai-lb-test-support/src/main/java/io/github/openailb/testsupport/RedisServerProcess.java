package io.github.openailb.testsupport;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * A real {@code redis-server} of a test's own, on a free loopback port, without persistence.
 * Tests are skipped when the binary is missing, except in CI (the {@code CI} variable is set)
 * where they must run.
 */
public final class RedisServerProcess implements AutoCloseable {

	private final int port;

	private Process process;

	private RedisServerProcess(int port) {
		this.port = port;
	}

	/**
	 * Start a server on a free port, or skip the test outside CI when there is no binary.
	 * @return the running server
	 */
	public static RedisServerProcess start() {
		Assumptions.assumeTrue(installed() || System.getenv("CI") != null,
				"redis-server is not installed (apt-get install redis-server)");
		RedisServerProcess server = new RedisServerProcess(freePort());
		server.restart();
		return server;
	}

	public int port() {
		return this.port;
	}

	/** Start (again) on the same port and wait until it answers PING. */
	public void restart() {
		try {
			this.process = new ProcessBuilder("redis-server", "--port", Integer.toString(this.port), "--bind",
					"127.0.0.1", "--save", "", "--appendonly", "no")
				.redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.DISCARD)
				.start();
		}
		catch (IOException ex) {
			throw new IllegalStateException("cannot start redis-server", ex);
		}
		Awaits.until(Duration.ofSeconds(20), this::answers, "redis-server on port " + this.port + " answers");
	}

	/** Stop the server and wait until it is gone. */
	public void stop() {
		if (this.process != null) {
			this.process.destroy();
			try {
				if (!this.process.waitFor(10, TimeUnit.SECONDS)) {
					this.process.destroyForcibly().waitFor();
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
			}
			this.process = null;
		}
	}

	/**
	 * Send one command in Redis' inline protocol and return its reply.
	 * @param command e.g. {@code PUBSUB NUMSUB ns:events}
	 * @return the reply, the lines joined by {@code \n}
	 */
	public String command(String command) {
		return send(command + "\r\n");
	}

	private String send(String request) {
		try (Socket socket = new Socket("127.0.0.1", this.port)) {
			socket.setSoTimeout(2000);
			OutputStream out = socket.getOutputStream();
			out.write((request + "QUIT\r\n").getBytes(StandardCharsets.UTF_8));
			out.flush();
			InputStream in = socket.getInputStream();
			String reply = new String(in.readAllBytes(), StandardCharsets.UTF_8);
			return reply.replace("\r\n", "\n");
		}
		catch (IOException ex) {
			return "";
		}
	}

	/**
	 * Send one command with arguments that may hold any bytes (newlines too), in Redis' own
	 * protocol, and return its reply.
	 * @param args the command and its arguments, e.g. {@code PUBLISH}, a channel, a message
	 * @return the reply, the lines joined by {@code \n}
	 */
	public String call(String... args) {
		StringBuilder request = new StringBuilder("*").append(args.length).append("\r\n");
		for (String arg : args) {
			request.append('$').append(arg.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(arg).append("\r\n");
		}
		return send(request.toString());
	}

	@Override
	public void close() {
		stop();
	}

	private boolean answers() {
		return command("PING").startsWith("+PONG");
	}

	private static boolean installed() {
		for (String dir : List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))) {
			if (new File(dir, "redis-server").canExecute()) {
				return true;
			}
		}
		return false;
	}

	private static int freePort() {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
