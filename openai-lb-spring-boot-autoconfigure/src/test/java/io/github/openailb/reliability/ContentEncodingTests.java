package io.github.openailb.reliability;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;

import com.azure.core.http.HttpHeaderName;
import com.azure.core.http.HttpRequest;
import com.azure.core.http.HttpResponse;
import com.azure.core.util.BinaryData;
import io.github.openailb.azure.BalancingAzureHttpClient;
import io.github.openailb.testsupport.PersistentBackend;
import io.github.openailb.transport.BalancingClientHttpConnector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.http.HttpHeaders;
import org.springframework.http.ResponseEntity;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

import static io.github.openailb.reliability.BalancedApp.CHAT;
import static io.github.openailb.reliability.BalancedApp.restClient;
import static io.github.openailb.reliability.BalancedApp.webClient;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #16: compressed answers reach every kind of caller as bytes and headers it can decode.
 * The transport decodes {@code gzip} and {@code deflate} bodies as they stream and drops
 * {@code Content-Encoding} and the compressed {@code Content-Length}; a coding it cannot decode
 * passes through untouched, header included. Before, the compressed bytes reached callers that do not
 * decode (Spring's clients leave that to the HTTP library, which the balancer stands in for).
 */
class ContentEncodingTests {

	private static final String JSON = "{\"choices\":[{\"message\":{\"content\":\"h\u00e9llo\"}}]}";

	private static final String EVENTS = "data: {\"n\":1}\n\ndata: {\"n\":2}\n\ndata: [DONE]\n\n";

	private final ApplicationContextRunner runner = BalancedApp.runner();

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "gzip", "deflate" })
	void aCompressedJsonAnswerReachesABlockingCallerDecoded(String coding) throws Exception {
		try (PersistentBackend a = compressed(coding, "application/json", JSON)) {
			this.runner.withPropertyValues(backend(a)).run((context) -> {
				RestClient client = restClient(context);
				ResponseEntity<String> entity = client.post()
					.uri(CHAT)
					.header(HttpHeaders.ACCEPT_ENCODING, coding)
					.body("{}")
					.retrieve()
					.toEntity(String.class);
				assertThat(entity.getStatusCode().value()).isEqualTo(200);
				assertThat(entity.getBody()).isEqualTo(JSON);
				assertThat(entity.getHeaders().get(HttpHeaders.CONTENT_ENCODING)).isNull();
				assertThat(entity.getHeaders().getContentLength()).isIn(-1L, (long) bytes(JSON).length);
			});
		}
	}

	@ParameterizedTest(name = "{0}")
	@ValueSource(strings = { "gzip", "deflate" })
	void aCompressedEventStreamReachesAReactiveCallerDecodedEventByEvent(String coding) throws Exception {
		try (PersistentBackend a = compressed(coding, "text/event-stream", EVENTS)) {
			this.runner.withPropertyValues(backend(a)).run((context) -> {
				WebClient client = webClient(context);
				ResponseEntity<List<String>> entity = client.post()
					.uri(CHAT)
					.bodyValue("{}")
					.retrieve()
					.toEntityList(String.class)
					.block(Duration.ofSeconds(10));
				assertThat(entity.getBody()).containsExactly("{\"n\":1}", "{\"n\":2}", "[DONE]");
				assertThat(entity.getHeaders().get(HttpHeaders.CONTENT_ENCODING)).isNull();
			});
		}
	}

	@Test
	void aCompressedAnswerReachesTheAzureSdkAdapterDecoded() throws Exception {
		try (PersistentBackend a = compressed("gzip", "application/json", JSON)) {
			this.runner.withPropertyValues(backend(a)).run((context) -> {
				BalancingAzureHttpClient client = new BalancingAzureHttpClient(
						context.getBean("openAiLbConnector", BalancingClientHttpConnector.class));
				HttpRequest request = new HttpRequest(com.azure.core.http.HttpMethod.POST,
						new URL("https://openai-lb" + CHAT))
					.setHeader(HttpHeaderName.ACCEPT_ENCODING, "gzip")
					.setBody(BinaryData.fromString("{}"));
				HttpResponse response = client.send(request).block(Duration.ofSeconds(10));
				assertThat(response.getStatusCode()).isEqualTo(200);
				assertThat(response.getHeaders().getValue(HttpHeaderName.CONTENT_ENCODING)).isNull();
				assertThat(response.getBodyAsString().block(Duration.ofSeconds(10))).isEqualTo(JSON);
			});
		}
	}

	@Test
	void aCompressedErrorAnswerIsReadForItsRetryHintAndReturnedDecoded() throws Exception {
		String error = "{\"error\":{\"code\":\"500\",\"message\":\"Internal error. Please retry after 17 seconds.\"}}";
		try (PersistentBackend a = new PersistentBackend((request, out) -> PersistentBackend.answer(out, 500,
				"application/json", gzip(bytes(error)), "Content-Encoding", "gzip"))) {
			this.runner.withPropertyValues(backend(a)).run((context) -> {
				RestClient client = restClient(context);
				ResponseEntity<String> entity = client.post()
					.uri(CHAT)
					.body("{}")
					.exchange((req, res) -> ResponseEntity.status(res.getStatusCode())
						.headers(res.getHeaders())
						.body(new String(res.getBody().readAllBytes(), StandardCharsets.UTF_8)));
				assertThat(entity.getStatusCode().value()).isEqualTo(500);
				assertThat(entity.getBody()).isEqualTo(error);
				assertThat(entity.getHeaders().get(HttpHeaders.CONTENT_ENCODING)).isNull();
			});
		}
	}

	@Test
	void aCodingTheTransportDoesNotKnowPassesThroughUntouched() throws Exception {
		byte[] opaque = { 1, 2, 3, 4, 5 };
		try (PersistentBackend a = new PersistentBackend((request, out) -> PersistentBackend.answer(out, 200,
				"application/octet-stream", opaque, "Content-Encoding", "x-custom"))) {
			this.runner.withPropertyValues(backend(a)).run((context) -> {
				RestClient client = restClient(context);
				ResponseEntity<byte[]> entity = client.post().uri(CHAT).body("{}").retrieve().toEntity(byte[].class);
				assertThat(entity.getBody()).isEqualTo(opaque);
				assertThat(entity.getHeaders().getFirst(HttpHeaders.CONTENT_ENCODING)).isEqualTo("x-custom");
			});
		}
	}

	private static PersistentBackend compressed(String coding, String type, String body) throws IOException {
		byte[] encoded = coding.equals("gzip") ? gzip(bytes(body)) : deflate(bytes(body));
		return new PersistentBackend((request, out) -> chunked(out, type, coding, encoded));
	}

	/** A chunked answer in two chunks, so that decoding must carry state across reads. */
	private static void chunked(OutputStream out, String type, String coding, byte[] body) throws IOException {
		int half = body.length / 2;
		out.write(("HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nContent-Encoding: " + coding
				+ "\r\nTransfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(half) + "\r\n")
			.getBytes(StandardCharsets.US_ASCII));
		out.write(body, 0, half);
		out.write(("\r\n" + Integer.toHexString(body.length - half) + "\r\n").getBytes(StandardCharsets.US_ASCII));
		out.flush();
		out.write(body, half, body.length - half);
		out.write("\r\n0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
		out.flush();
	}

	static byte[] gzip(byte[] bytes) throws IOException {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		try (GZIPOutputStream gzip = new GZIPOutputStream(out)) {
			gzip.write(bytes);
		}
		return out.toByteArray();
	}

	private static byte[] deflate(byte[] bytes) throws IOException {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		try (DeflaterOutputStream deflate = new DeflaterOutputStream(out)) {
			deflate.write(bytes);
		}
		return out.toByteArray();
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

	private static String[] backend(PersistentBackend backend) {
		return new String[] { "openai.lb.backends[0].name=a", "openai.lb.backends[0].url=" + backend.url() };
	}
}
