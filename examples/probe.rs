fn main() {
    for x in [1.959963984540054f64, -1.959963984540054, 0.0, -6.0] {
        println!("{x} {:e} {:e}", arstress::normal::cdf(x), arstress::normal::quantile(arstress::normal::cdf(x)) - x);
    }
}
