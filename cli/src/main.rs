//! The `mend` command line.

fn main() {
    println!("mend");
}
