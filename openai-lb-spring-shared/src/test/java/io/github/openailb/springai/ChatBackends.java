package io.github.openailb.springai;

import java.io.IOException;
import java.io.OutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import com.github.tomakehurst.wiremock.WireMockServer;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

/** Loopback chat backends and a whole Spring Boot application (with all auto-configurations) over them. */
final class ChatBackends implements AutoCloseable {

	static final String COMPLETION = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1700000000,"
			+ "\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"finish_reason\":\"stop\","
			+ "\"message\":{\"role\":\"assistant\",\"content\":\"%s\"}}],"
			+ "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}";

	private final List<WireMockServer> servers = new ArrayList<>();

	private final List<ServerSocket> sockets = new ArrayList<>();

	private ConfigurableApplicationContext context;

	WireMockServer start() {
		WireMockServer server = new WireMockServer(options().dynamicPort().bindAddress("127.0.0.1"));
		server.start();
		this.servers.add(server);
		return server;
	}

	/** A backend that sends the first event of a stream, then drops the connection. */
	String startBreakingStream(String firstEvent) throws IOException {
		ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		this.sockets.add(server);
		Thread thread = new Thread(() -> {
			try (Socket socket = server.accept()) {
				readRequest(socket.getInputStream());
				OutputStream out = socket.getOutputStream();
				// promises more bytes than it sends, so closing the socket cuts the stream
				out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100000\r\n\r\n"
						+ firstEvent).getBytes(StandardCharsets.UTF_8));
				out.flush();
			}
			catch (IOException ex) {
				// the test sees what the client saw
			}
		}, "breaking-stream");
		thread.setDaemon(true);
		thread.start();
		return "http://127.0.0.1:" + server.getLocalPort();
	}

	private static void readRequest(InputStream in) throws IOException {
		StringBuilder head = new StringBuilder();
		while (!head.toString().endsWith("\r\n\r\n")) {
			int c = in.read();
			if (c < 0) {
				return;
			}
			head.append((char) c);
		}
		int length = 0;
		for (String line : head.toString().split("\r\n")) {
			if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
				length = Integer.parseInt(line.substring(15).trim());
			}
		}
		in.readNBytes(length);
	}

	static String completion(String content) {
		return COMPLETION.formatted(content);
	}

	/** An embeddings answer of one vector. */
	static String embedding(float... vector) {
		StringBuilder values = new StringBuilder();
		for (float value : vector) {
			values.append((values.length() > 0) ? "," : "").append(value);
		}
		return "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[" + values
				+ "]}],\"model\":\"text-embedding-3-small\",\"usage\":{\"prompt_tokens\":1,\"total_tokens\":1}}";
	}

	static String chunk(String content) {
		return "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o\","
				+ "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"" + content
				+ "\"},\"finish_reason\":null}]}\n\n";
	}

	static String stream(String... contents) {
		StringBuilder body = new StringBuilder();
		for (String content : contents) {
			body.append(chunk(content));
		}
		return body.append("data: [DONE]\n\n").toString();
	}

	ConfigurableApplicationContext run(String... args) {
		SpringApplication application = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
			.logStartupInfo(false)
			.build();
		this.context = application.run(args);
		return this.context;
	}

	@Override
	public void close() {
		if (this.context != null) {
			this.context.close();
		}
		this.servers.forEach(WireMockServer::stop);
		for (ServerSocket socket : this.sockets) {
			try {
				socket.close();
			}
			catch (IOException ex) {
				// already closed
			}
		}
	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class App {

	}

}
