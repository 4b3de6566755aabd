import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import OJSCore
import OJSStore

/// Answers, below the router, the two ways a client can hold a connection without ever
/// finishing a request: a head too large for the decoder (431) and a request whose body does
/// not arrive within the request timeout (408). Both get the OJS error body and the
/// connection is closed, since the rest of the byte stream cannot be trusted.
///
/// Hummingbird's idle timeout already closes a connection whose head never completes (no
/// part is decoded, so the connection counts as idle); this handler covers the body.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let requestTimeout: TimeAmount
    private let maxHeaderBytes: Int
    private var deadline: Scheduled<Void>?
    /// The application has started answering the request being read; a 408 would corrupt it.
    private var responseStarted = false
    /// We answered ourselves; whatever the application writes afterwards is dropped.
    private var answered = false

    init(requestTimeout: TimeAmount, maxHeaderBytes: Int) {
        self.requestTimeout = requestTimeout
        self.maxHeaderBytes = maxHeaderBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            responseStarted = false
            deadline?.cancel()
            let loopContext = NIOLoopBound(context, eventLoop: context.eventLoop)
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: requestTimeout) { [self] in
                requestTimedOut(context: loopContext.value)
            }
        case .end:
            deadline?.cancel()
            deadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !answered else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        if case .head = unwrapOutboundIn(data) { responseStarted = true }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let parserError = error as? HTTPParserError, parserError == .headerOverflow {
            answer(
                OJSError(.headersTooLarge, "The request head is larger than this server's limit of \(maxHeaderBytes) bytes."),
                status: .init(code: 431),
                context: context
            )
            return
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    private func requestTimedOut(context: ChannelHandlerContext) {
        deadline = nil
        guard !responseStarted else {
            context.close(promise: nil)
            return
        }
        let seconds = Double(requestTimeout.nanoseconds) / 1e9
        answer(
            OJSError(.requestTimeout, "The request was not received completely within \(seconds) seconds."),
            status: .requestTimeout,
            context: context
        )
    }

    private func answer(_ error: OJSError, status: HTTPResponse.Status, context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let body = JSONResponse.errorBytes(error, requestId: "req_" + UUIDv7.make(millis: Store.systemClock()))
        var head = HTTPResponse(status: status)
        head.headerFields[.contentType] = MediaTypes.ojs
        head.headerFields[.contentLength] = String(body.count)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
