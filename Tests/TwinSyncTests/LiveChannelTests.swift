import Testing
@testable import TwinSync

@Suite struct LiveChannelTests {
    @Test func everySubscriberGetsEveryElementInOrderUntilFinished() async throws {
        let channel = LiveChannel<Int>(bufferSize: 16)
        let a = channel.subscribe(), b = channel.subscribe()
        #expect(channel.subscriberCount == 2)
        for i in 1...5 { #expect(channel.publish(i) == 2) }
        channel.finish()
        var seenA: [Int] = [], seenB: [Int] = []
        for await x in a { seenA.append(x) }
        for await x in b { seenB.append(x) }
        #expect(seenA == [1, 2, 3, 4, 5] && seenB == seenA)
        // after finish: nothing is delivered and a new subscription ends at once
        #expect(channel.publish(6) == 0)
        var late: [Int] = []
        for await x in channel.subscribe() { late.append(x) }
        #expect(late.isEmpty)
    }

    @Test func aSlowSubscriberKeepsOnlyTheNewestElements() async throws {
        let channel = LiveChannel<Int>(bufferSize: 3)
        let slow = channel.subscribe()
        for i in 1...10 { channel.publish(i) }
        channel.finish()
        var seen: [Int] = []
        for await x in slow { seen.append(x) }
        #expect(seen == [8, 9, 10])
        #expect(channel.dropped == 7 && channel.published == 10)
    }

    @Test func aSubscriptionSeesOnlyWhatIsPublishedAfterItAndLeavesWhenCancelled() async throws {
        let channel = LiveChannel<Int>()
        channel.publish(1)
        let s = channel.subscribe()
        channel.publish(2)
        channel.publish(3)
        var iterator = s.makeAsyncIterator()
        #expect(await iterator.next() == 2)
        // a consumer whose task is cancelled leaves the channel
        let consumer = Task { for await _ in channel.subscribe() {} }
        for _ in 0..<100 where channel.subscriberCount < 2 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(channel.subscriberCount == 2)
        consumer.cancel()
        await consumer.value
        #expect(channel.subscriberCount == 1)
    }
}
