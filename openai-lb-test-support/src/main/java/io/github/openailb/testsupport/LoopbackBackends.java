package io.github.openailb.testsupport;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

import com.github.tomakehurst.wiremock.WireMockServer;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.options;

/**
 * WireMock backends on loopback ports, stopped after each test.
 */
public final class LoopbackBackends implements AfterEachCallback {

	private final List<WireMockServer> servers = new ArrayList<>();

	public WireMockServer start() {
		WireMockServer server = new WireMockServer(options().bindAddress("127.0.0.1").dynamicPort());
		server.start();
		this.servers.add(server);
		return server;
	}

	/** A loopback URL where nothing listens: connections are refused. */
	public static String refusingUrl() {
		try (ServerSocket socket = new ServerSocket(0)) {
			return "http://127.0.0.1:" + socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

	@Override
	public void afterEach(ExtensionContext context) {
		this.servers.forEach(WireMockServer::stop);
		this.servers.clear();
	}

}
