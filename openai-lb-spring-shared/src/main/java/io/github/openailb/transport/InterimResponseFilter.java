package io.github.openailb.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpContentDecompressor;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import reactor.netty.NettyPipeline;

/**
 * Keeps interim answers from ever being taken as a backend's final answer. Reactor Netty skips
 * only {@code 100 Continue}: any other 1xx ({@code 102 Processing}, {@code 103 Early Hints}) would
 * end the exchange, the connection would go back to the pool, and the real answer would then be
 * read by the next request on it. This handler sits right after the HTTP/1.1 codec and drops
 * every interim answer (RFC 9110 §15.2: a client may ignore unexpected 1xx). What cannot be
 * handled safely, {@code 101 Switching Protocols} or a status outside 100–599, fails the attempt
 * and closes the connection, so it never returns to the pool.
 */
final class InterimResponseFilter extends ChannelInboundHandlerAdapter {

	static final String NAME = "openai-lb.interim-responses";

	/** Dropping an interim answer: its end marker follows and is dropped too. */
	private boolean dropping;

	/**
	 * Install on a new HTTP/1.1 connection, with a decompressor after it so that callers get
	 * decoded bodies. Connections without the HTTP/1.1 codec (HTTP/2) are left alone.
	 * @param pipeline the connection's pipeline, already configured by Reactor Netty
	 */
	static void install(ChannelPipeline pipeline) {
		if (pipeline.get(NettyPipeline.HttpCodec) == null || pipeline.get(NAME) != null) {
			return;
		}
		pipeline.addAfter(NettyPipeline.HttpCodec, NAME, new InterimResponseFilter());
		if (pipeline.get(NettyPipeline.HttpDecompressor) == null) {
			pipeline.addAfter(NAME, NettyPipeline.HttpDecompressor, new HttpContentDecompressor(false, 0));
		}
	}

	@Override
	public void channelRead(ChannelHandlerContext ctx, Object msg) {
		if (msg instanceof HttpResponse response) {
			int status = response.status().code();
			if (status >= 100 && status < 200 && status != 101) {
				this.dropping = !(msg instanceof LastHttpContent);
				ReferenceCountUtil.release(msg);
				readOn(ctx);
				return;
			}
			if (status == 101 || status < 100 || status > 599) {
				ReferenceCountUtil.release(msg);
				// closed first, so that the connection is dead before anyone could take it from the pool
				ctx.close();
				ctx.fireExceptionCaught(new RefusedAnswerException((status == 101)
						? "answered 101 Switching Protocols, which the balancer refuses"
						: "answered " + status + ", which is not an HTTP status"));
				return;
			}
		}
		else if (this.dropping && msg instanceof LastHttpContent) {
			this.dropping = false;
			ReferenceCountUtil.release(msg);
			readOn(ctx);
			return;
		}
		ctx.fireChannelRead(msg);
	}

	/** The reader asked for one message, which was dropped: ask the socket for the next. */
	private static void readOn(ChannelHandlerContext ctx) {
		if (!ctx.channel().config().isAutoRead()) {
			ctx.read();
		}
	}

}
