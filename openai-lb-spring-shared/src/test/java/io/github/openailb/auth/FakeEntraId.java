package io.github.openailb.auth;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

import com.azure.core.credential.TokenCredential;
import com.azure.core.http.netty.NettyAsyncHttpClientBuilder;
import com.azure.identity.ClientSecretCredentialBuilder;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import reactor.netty.http.client.HttpClient;

/**
 * A loopback Microsoft Entra ID token endpoint over HTTPS (azure-identity and MSAL refuse plain
 * HTTP authorities). It issues {@code token-1}, {@code token-2}, ... with the lifetime the test
 * sets, or an error, and can hold a request until the test lets it go.
 */
final class FakeEntraId implements AutoCloseable {

	static final String TENANT = "tenant-1";

	static final String CLIENT_SECRET = "client-S3cret-value";

	private final HttpsServer server;

	private final AtomicInteger issued = new AtomicInteger();

	private final List<String> forms = new CopyOnWriteArrayList<>();

	volatile int expiresInSeconds = 240;

	volatile int errorStatus;

	volatile CountDownLatch received = new CountDownLatch(0);

	volatile CountDownLatch release = new CountDownLatch(0);

	FakeEntraId() throws Exception {
		this.server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		this.server.setHttpsConfigurator(new HttpsConfigurator(serverSsl()));
		this.server.createContext("/" + TENANT + "/oauth2/v2.0/token", this::token);
		this.server.start();
	}

	/** WireMock's own self-signed loopback certificate, so that no key material is committed. */
	private static SSLContext serverSsl() throws Exception {
		KeyStore keyStore = KeyStore.getInstance("JKS");
		try (InputStream in = FakeEntraId.class.getClassLoader().getResourceAsStream("keystore")) {
			keyStore.load(in, "password".toCharArray());
		}
		KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
		keys.init(keyStore, "password".toCharArray());
		SSLContext ssl = SSLContext.getInstance("TLS");
		ssl.init(keys.getKeyManagers(), null, null);
		return ssl;
	}

	private void token(HttpExchange exchange) throws IOException {
		try (exchange) {
			this.forms.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
			this.received.countDown();
			if (!this.release.await(30, TimeUnit.SECONDS)) {
				throw new IOException("the test never released the token request");
			}
			String body;
			int status;
			if (this.errorStatus != 0) {
				status = this.errorStatus;
				body = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret provided.\"}";
			}
			else {
				status = 200;
				body = "{\"token_type\":\"Bearer\",\"expires_in\":" + this.expiresInSeconds + ",\"ext_expires_in\":"
						+ this.expiresInSeconds + ",\"access_token\":\"token-" + this.issued.incrementAndGet() + "\"}";
			}
			byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
			exchange.getResponseHeaders().set("Content-Type", "application/json");
			exchange.sendResponseHeaders(status, bytes.length);
			try (OutputStream out = exchange.getResponseBody()) {
				out.write(bytes);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	/** Token requests received so far. */
	int requests() {
		return this.forms.size();
	}

	List<String> forms() {
		return this.forms;
	}

	String authorityHost() {
		return "https://localhost:" + this.server.getAddress().getPort();
	}

	/** A real azure-identity client-secret credential whose authority is this fake. */
	TokenCredential clientSecretCredential(String clientId) throws Exception {
		SslContext trustAll = SslContextBuilder.forClient().trustManager(InsecureTrustManagerFactory.INSTANCE).build();
		HttpClient netty = HttpClient.create().secure((spec) -> spec.sslContext(trustAll));
		return new ClientSecretCredentialBuilder().authorityHost(authorityHost())
			.tenantId(TENANT)
			.clientId(clientId)
			.clientSecret(CLIENT_SECRET)
			.disableInstanceDiscovery()
			.httpClient(new NettyAsyncHttpClientBuilder(netty).build())
			.build();
	}

	@Override
	public void close() {
		this.release.countDown();
		this.server.stop(0);
	}

}
