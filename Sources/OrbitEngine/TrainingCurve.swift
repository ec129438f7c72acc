import Foundation
import NeuMF

/// Per-epoch figures as CSV and as an SVG chart (loss and validation HR@10 against epochs).
public enum TrainingCurve {
    /// One row per epoch: phase, epoch, loss, speed and validation figures.
    public static func csv(_ epochs: [PhaseEpoch]) -> String {
        var s = "phase,epoch,loss,samples_per_s,train_s,validation_hr10,validation_ndcg10,best\n"
        for e in epochs {
            let (phase, r) = (e.phase, e.report)
            s += "\(phase),\(r.epoch + 1),\(r.loss),\(Int(r.samplesPerSecond)),\(r.trainSeconds),"
                + "\(r.validationHitRate.map { String($0) } ?? ""),\(r.validationNDCG.map { String($0) } ?? ""),\(r.isBest)\n"
        }
        return s
    }

    /// Loss and validation HR@10 against epochs, phases marked, as a standalone SVG.
    public static func svg(_ epochs: [PhaseEpoch], title: String) -> String {
        let w = 640.0, h = 360.0, pad = 48.0
        let n = max(epochs.count, 2)
        let losses = epochs.map(\.report.loss), hrs = epochs.map { $0.report.validationHitRate ?? 0 }
        let maxLoss = max(losses.max() ?? 1, 1e-9)
        func x(_ i: Int) -> Double { pad + (w - 2 * pad) * Double(i) / Double(n - 1) }
        func y(_ v: Double, _ top: Double) -> Double { h - pad - (h - 2 * pad) * v / top }
        func path(_ vals: [Double], _ top: Double) -> String {
            vals.enumerated().map { "\($0.offset == 0 ? "M" : "L")\(String(format: "%.1f", x($0.offset))),\(String(format: "%.1f", y($0.element, top)))" }
                .joined(separator: " ")
        }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(pad)" y="20">\(title): loss (red, left, max \(String(format: "%.3f", maxLoss))) and validation HR@10 (blue, right, 0–1) per epoch</text>
            <line x1="\(pad)" y1="\(h - pad)" x2="\(w - pad)" y2="\(h - pad)" stroke="black"/>
            <line x1="\(pad)" y1="\(pad)" x2="\(pad)" y2="\(h - pad)" stroke="black"/>
            <path d="\(path(losses, maxLoss))" fill="none" stroke="crimson" stroke-width="2"/>
            <path d="\(path(hrs, 1))" fill="none" stroke="steelblue" stroke-width="2"/>
            <text x="\(pad)" y="\(h - pad + 20)">epoch 1</text><text x="\(w - pad - 50)" y="\(h - pad + 20)">epoch \(epochs.count)</text>
            """
        // Phase boundaries (pretraining: gmf, mlp, neumf).
        for i in 1..<epochs.count where epochs[i].phase != epochs[i - 1].phase {
            s += "<line x1=\"\(x(i))\" y1=\"\(pad)\" x2=\"\(x(i))\" y2=\"\(h - pad)\" stroke=\"gray\" stroke-dasharray=\"4\"/>"
            s += "<text x=\"\(x(i) + 4)\" y=\"\(pad + 12)\" fill=\"gray\">\(epochs[i].phase)</text>"
        }
        return s + "\n</svg>\n"
    }
}

extension TrainingCurve {
    /// One row of the per-epoch CSV, as the dashboard charts it.
    public struct Epoch: Codable, Sendable, Equatable {
        public var phase: String
        public var epoch: Int
        public var loss: Double
        public var trainSeconds: Double
        public var validationHR10: Double?
        public var validationNDCG10: Double?
        public var best: Bool
    }

    /// The rows of a CSV written by `csv(_:)`; a row that does not parse is an error naming its line.
    public static func epochs(csv text: String) throws(EngineError) -> [Epoch] {
        var out: [Epoch] = []
        for (i, line) in text.split(separator: "\n").enumerated().dropFirst() where !line.isEmpty {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 8, let epoch = Int(f[1]), let loss = Double(f[2]), let seconds = Double(f[4]) else {
                throw .unusableModel(path: "epochs CSV", reason: "line \(i + 1) is not phase,epoch,loss,samples_per_s,train_s,hr,ndcg,best")
            }
            out.append(Epoch(phase: f[0], epoch: epoch, loss: loss, trainSeconds: seconds, validationHR10: Double(f[5]),
                             validationNDCG10: Double(f[6]), best: f[7] == "true"))
        }
        return out
    }
}
