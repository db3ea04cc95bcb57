package io.github.openailb.demo;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.context.request.async.AsyncRequestNotUsableException;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Turns chat and embeddings failures into short JSON errors with the right status, never a stack trace. The
 * body is written directly so that it also reaches a client that asked for
 * {@code text/event-stream}.
 */
@RestControllerAdvice(assignableTypes = { ChatController.class, EmbeddingsController.class })
class ChatErrorAdvice {

	private static final Log logger = LogFactory.getLog(ChatErrorAdvice.class);

	private final ObjectMapper json;

	ChatErrorAdvice(ObjectMapper json) {
		this.json = json;
	}

	@ExceptionHandler
	void throttled(ChatThrottledException ex, HttpServletResponse response) throws IOException {
		response.setHeader(HttpHeaders.RETRY_AFTER, Long.toString(ex.retryAfterSeconds()));
		write(response, 429, "throttled", "Every backend is throttled; retry after " + ex.retryAfterSeconds() + "s.",
				ex.retryAfterSeconds());
	}

	@ExceptionHandler
	void failed(ChatFailedException ex, HttpServletResponse response) throws IOException {
		logger.warn("Chat failed: " + ex.getMessage());
		write(response, ex.status(), (ex.status() == 503) ? "unavailable" : "bad_gateway", ex.getMessage(), null);
	}

	@ExceptionHandler({ IllegalArgumentException.class, HttpMessageNotReadableException.class,
			MissingServletRequestParameterException.class })
	void badRequest(Exception ex, HttpServletResponse response) throws IOException {
		String message = (ex instanceof IllegalArgumentException) ? ex.getMessage()
				: "Send {\"message\": \"...\"} (chat) or {\"text\": \"...\"} (embeddings).";
		write(response, 400, "bad_request", message, null);
	}

	/** The caller went away mid-stream: nobody is left to answer, and nothing failed on our side. */
	@ExceptionHandler
	void callerLeft(AsyncRequestNotUsableException ex) {
		logger.debug("Caller left before the reply ended: " + ex.getMessage());
	}

	@ExceptionHandler
	void unexpected(Exception ex, HttpServletResponse response) throws IOException {
		logger.error("Chat failed unexpectedly", ex);
		write(response, 502, "bad_gateway", "The chat model could not answer.", null);
	}

	private void write(HttpServletResponse response, int status, String error, String message, Long retryAfter)
			throws IOException {
		Map<String, Object> body = new LinkedHashMap<>();
		body.put("error", error);
		body.put("message", message);
		if (retryAfter != null) {
			body.put("retryAfterSeconds", retryAfter);
		}
		response.setStatus(status);
		response.setContentType(MediaType.APPLICATION_JSON_VALUE);
		this.json.writeValue(response.getOutputStream(), body);
	}

}
