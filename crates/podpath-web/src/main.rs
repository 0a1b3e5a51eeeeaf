//! The playground's entry point: mount the app on the page.

fn main() {
    podpath_web::start();
}
